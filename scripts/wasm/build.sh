#!/usr/bin/env bash
# Builds the engine for the browser: lotse-wasm (the core, engine/wasm) for wasm32-unknown-unknown,
# to target/wasm/lotse_wasm.wasm, where the portal finds it (docs/browser-engine.md).
#
# Needs Debian's packages rustc-web, cargo-web, rust-web-src and lld-16 (.ci/run installs them):
# this machine's Rust toolchain has no wasm32 standard library and none can be fetched, so
# Debian's Rust (1.85, or 1.96 since December 2026: scripts/wasm/env.sh sets what differs)
# builds one from source (-Zbuild-std; RUSTC_BOOTSTRAP allows that on a stable compiler).
#
# The build runs in a workspace of its own (target/wasm-build/ws): the workspace's manifest with
# only the core and lotse-wasm as members, their sources linked, and the workspace's lockfile,
# in which only the crates listed in OLDER get the newest version that Rust 1.85 compiles. Every
# other crate has exactly the version the server is built with; the parity test
# (engine/wasm/tests/parity.rs) shows that both builds give the same answers.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
. scripts/wasm/env.sh
# time 0.3.46 and later use functions of Rust 1.87 that 1.85 has not even behind a feature.
OLDER=("time@0.3.45")

ws="$root/target/wasm-build/ws"
mkdir -p "$ws/core" "$ws/wasm"
for part in src benches tests; do
  [ -e "engine/core/$part" ] && ln -sfn "$root/engine/core/$part" "$ws/core/$part"
  [ -e "engine/wasm/$part" ] && ln -sfn "$root/engine/wasm/$part" "$ws/wasm/$part"
done
cp engine/core/Cargo.toml "$ws/core/Cargo.toml"
cp engine/wasm/Cargo.toml "$ws/wasm/Cargo.toml"
# The workspace's manifest: its members replaced, its own crates found in the repository.
sed -e 's|^members = .*|members = ["core", "wasm"]|' \
    -e 's|^lotse-core = { path = "engine/core" }|lotse-core = { path = "core" }|' \
    -e "s|{ path = \"engine/|{ path = \"$root/engine/|" \
    Cargo.toml > "$ws/Cargo.toml"
if [ ! -f "$ws/Cargo.lock" ] || ! cmp -s Cargo.lock "$ws/Cargo.lock.from"; then
  cp Cargo.lock "$ws/Cargo.lock"
  cp Cargo.lock "$ws/Cargo.lock.from"
  for spec in "${OLDER[@]}"; do
    (cd "$ws" && /usr/bin/cargo update -q -p "${spec%@*}" --precise "${spec#*@}" --ignore-rust-version 2>/dev/null \
      || /usr/bin/cargo update -q -p "${spec%@*}" --precise "${spec#*@}")
  done
fi

export CARGO_TARGET_DIR="$root/target/wasm-build"
# Small rather than fast: optimised for size, one codegen unit, whole-program optimisation, no
# debug information, and a panic traps at once (the page's script then leaves the page as it is).
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z
export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_DEBUG=false
# LOTSE_WASM_KEEP_NAMES=1 keeps the functions' names (the name section) for measuring where the
# bytes go (twiggy, wasm-objdump); the module served is always stripped.
if [ -n "${LOTSE_WASM_KEEP_NAMES:-}" ]; then
  export CARGO_PROFILE_RELEASE_STRIP=false
else
  export CARGO_PROFILE_RELEASE_STRIP=true
fi
export CARGO_PROFILE_RELEASE_PANIC=abort
(cd "$ws" && /usr/bin/cargo build -p lotse-wasm --lib --release --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort ${LOTSE_WASM_STD_FEATURES[@]+"${LOTSE_WASM_STD_FEATURES[@]}"} --ignore-rust-version "$@")
mkdir -p target/wasm
cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/lotse_wasm.wasm" target/wasm/lotse_wasm.wasm.new
# wasm-opt (Debian's binaryen), where it is there: identical functions merged into one and what
# nothing reaches removed (about 2 % less gzip, 1 % less brotli). Its -Oz makes the module smaller
# but compresses worse (docs/BENCHMARKS.md), so only these passes. The features are the ones
# Rust's wasm32 target uses; the stripped module no longer names them.
if command -v wasm-opt >/dev/null; then
  keep=()
  [ -n "${LOTSE_WASM_KEEP_NAMES:-}" ] && keep=(-g)
  wasm-opt ${keep[@]+"${keep[@]}"} --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types --enable-simd \
    --duplicate-function-elimination --remove-unused-module-elements --vacuum --strip-producers \
    target/wasm/lotse_wasm.wasm.new -o target/wasm/lotse_wasm.wasm.opt
  mv target/wasm/lotse_wasm.wasm.opt target/wasm/lotse_wasm.wasm.new
fi
mv target/wasm/lotse_wasm.wasm.new target/wasm/lotse_wasm.wasm
# Brotli for the browsers that take it: the portal sends lotse_wasm.wasm.br when it decompresses
# to the module, gzip otherwise (docs/browser-engine.md). Without the brotli program (Debian's
# package brotli; .ci/run installs it) there is no .br, and an old one is removed.
rm -f target/wasm/lotse_wasm.wasm.br
if command -v brotli >/dev/null; then
  brotli -q 11 -w 24 -f -o target/wasm/lotse_wasm.wasm.br.new target/wasm/lotse_wasm.wasm
  mv target/wasm/lotse_wasm.wasm.br.new target/wasm/lotse_wasm.wasm.br
fi
size=$(stat -c %s target/wasm/lotse_wasm.wasm)
gz=$(gzip -9 -c target/wasm/lotse_wasm.wasm | wc -c)
br=$( [ -f target/wasm/lotse_wasm.wasm.br ] && stat -c %s target/wasm/lotse_wasm.wasm.br || echo "no")
echo "target/wasm/lotse_wasm.wasm: $size bytes, $gz gzip-compressed, $br brotli-compressed"
