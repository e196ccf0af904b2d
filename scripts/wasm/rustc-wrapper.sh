#!/bin/sh
# RUSTC_WRAPPER for the WebAssembly build with Debian's Rust 1.85 (see scripts/wasm/build.sh):
# let chains and `is_multiple_of` (stable since 1.88 and 1.87, used by the core and by crates
# of the registry) are turned on for the project's and the
# registry's crates, never for the standard library built from source (which has them already).
rustc="$1"; shift
case "$*" in
  *"/usr/lib/rustlib/src/"*|*"/usr/src/rustc-"*) exec "$rustc" "$@" ;;
  *"--crate-name ___ "*) exec "$rustc" "$@" ;;
esac
exec "$rustc" -Zcrate-attr='feature(let_chains)' -Zcrate-attr='feature(unsigned_is_multiple_of)' "$@"
