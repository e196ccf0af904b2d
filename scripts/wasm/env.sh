# Sourced by scripts/wasm/build.sh: Debian's Rust 1.85 (packages rustc-web, cargo-web,
# rust-web-src, lld-16) builds the standard library for wasm32-unknown-unknown from source,
# since the machine's own toolchain has no wasm32 target and none can be fetched.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export RUSTC=/usr/bin/rustc
export RUSTC_WRAPPER="$here/rustc-wrapper.sh"
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS='--cfg getrandom_backend="custom"'
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-16
