# Sourced by scripts/wasm/build.sh: Debian's Rust (packages rustc-web, cargo-web, rust-web-src,
# lld-16; 1.85 at first, 1.96 since bookworm's update of December 2026) builds the standard
# library for wasm32-unknown-unknown from source, since the machine's own toolchain has no
# wasm32 target and none can be fetched. Both versions work; what differs is set here.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export RUSTC=/usr/bin/rustc
export RUSTC_WRAPPER="$here/rustc-wrapper.sh"
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS='--cfg getrandom_backend="custom"'
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-16
# The compiler's minor version: before 1.88 some features the crates use must be turned on by
# name (scripts/wasm/rustc-wrapper.sh).
rust_minor="$(/usr/bin/rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')"
if [ "${rust_minor:-0}" -lt 88 ]; then
  export LOTSE_WASM_GATED_FEATURES=1
fi
# A panic traps at once: before 1.91 a feature of the standard library built from source
# (panic_immediate_abort), from 1.91 a panic strategy of its own.
# Smaller with the same answers: the standard library's algorithms chosen for size
# (`optimize_for_size`: sorting, for one, where a stable sort gives the same order whatever the
# algorithm), and no source locations kept for panics, which trap without a message anyway.
export RUSTFLAGS="$RUSTFLAGS -Zlocation-detail=none"
if grep -q 'now a real panic strategy' /usr/lib/rustlib/src/rust/library/core/src/panicking.rs 2>/dev/null; then
  export RUSTFLAGS="$RUSTFLAGS -Zunstable-options -Cpanic=immediate-abort"
  LOTSE_WASM_STD_FEATURES=(-Zbuild-std-features=optimize_for_size)
else
  LOTSE_WASM_STD_FEATURES=(-Zbuild-std-features=panic_immediate_abort,optimize_for_size)
fi
