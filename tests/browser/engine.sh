#!/usr/bin/env bash
# The browser test of the engine in the browser (tests/browser/engine.mjs) with a portal of its
# own on a fresh data folder, serving the WebAssembly module built by scripts/wasm/build.sh.
# Usage: tests/browser/engine.sh [LOTSE_BIN] [PORT]   (from the repository root)
set -euo pipefail
. "$(dirname "$0")/wait.sh"
bin="${1:-./target/debug/lotse}"
port="${2:-18180}"
module="$PWD/target/wasm/lotse_wasm.wasm"
[ -f "$module" ] || { echo "no module at $module: run scripts/wasm/build.sh first"; exit 1; }
tmp="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"$bin" init --data "$tmp/portal" > /dev/null
LOTSE_BROWSER_ENGINE="$module" LOTSE_DATA_DIR="$tmp/portal" LOTSE_LISTEN="127.0.0.1:$port" \
  "$bin" serve > "$tmp/serve.log" 2>&1 &
server=$!
wait_for_http "$server" "http://127.0.0.1:$port/healthz" "the portal" "$tmp/serve.log"
status=0
(cd tests/browser && LOTSE_URL="http://127.0.0.1:$port" LOTSE_SHOTS="${LOTSE_SHOTS:-../../target/screenshots}" timeout 600 node engine.mjs) || status=$?
if [ "$status" != 0 ]; then
  echo "--- serve.log"; tail -50 "$tmp/serve.log"
fi
exit "$status"
