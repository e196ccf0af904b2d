#!/usr/bin/env bash
# Builds the engine for the browser: lotse-wasm (the core, engine/wasm) for wasm32-unknown-unknown,
# to target/wasm/lotse_wasm.wasm, where the portal finds it (docs/browser-engine.md).
#
# Needs Debian's packages rustc-web, cargo-web, rust-web-src and lld-16 (.ci/run installs them):
# this machine's Rust toolchain has no wasm32 standard library and none can be fetched, so
# Debian's Rust 1.85 builds one from source (-Zbuild-std; RUSTC_BOOTSTRAP allows that on a
# stable compiler). Its own target folder: target/wasm-build.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/wasm/env.sh
export CARGO_TARGET_DIR="$PWD/target/wasm-build"
# Small rather than fast: one codegen unit, whole-program optimisation, no debug information.
export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_DEBUG=false
export CARGO_PROFILE_RELEASE_STRIP=true
export CARGO_PROFILE_RELEASE_PANIC=abort
/usr/bin/cargo build -p lotse-wasm --lib --release --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort --ignore-rust-version "$@"
mkdir -p target/wasm
cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/lotse_wasm.wasm" target/wasm/lotse_wasm.wasm.new
mv target/wasm/lotse_wasm.wasm.new target/wasm/lotse_wasm.wasm
size=$(stat -c %s target/wasm/lotse_wasm.wasm)
gz=$(gzip -9 -c target/wasm/lotse_wasm.wasm | wc -c)
echo "target/wasm/lotse_wasm.wasm: $size bytes, $gz gzip-compressed"
