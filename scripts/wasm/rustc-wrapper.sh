#!/bin/sh
# RUSTC_WRAPPER for the WebAssembly build with Debian's Rust 1.85 (scripts/wasm/build.sh; with a
# later compiler, see env.sh, it only runs rustc). Some
# features the core and crates of the registry use were stabilised after 1.85 (let chains and
# `as_chunks` in 1.88, `is_multiple_of` and the signed/unsigned casts in 1.87); 1.85 has them
# behind these feature names, which are turned on for every crate except the standard library
# itself (built from source, it declares what it uses).
rustc="$1"; shift
[ -n "${LOTSE_WASM_GATED_FEATURES:-}" ] || exec "$rustc" "$@"
case "$*" in
  *"/usr/lib/rustlib/src/"*|*"/usr/src/rustc-"*) exec "$rustc" "$@" ;;
  *"--crate-name ___ "*) exec "$rustc" "$@" ;;
esac
set -- -Zcrate-attr='feature(let_chains)' -Zcrate-attr='feature(unsigned_is_multiple_of)' \
  -Zcrate-attr='feature(slice_as_chunks)' -Zcrate-attr='feature(integer_sign_cast)' "$@"
exec "$rustc" "$@"
