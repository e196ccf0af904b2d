#!/usr/bin/env bash
# The payment browser test (tests/browser/payment.mjs) with what it needs: the payment platform
# simulator (`lotse paysim`) and a portal of its own on a fresh data folder with a case worker,
# Heinsberg connected to the simulator, and a fast reconciliation job. Both are stopped at the end.
# Usage: tests/browser/payment.sh [LOTSE_BIN] [PORT]   (from the repository root)
set -euo pipefail
. "$(dirname "$0")/wait.sh"
bin="${1:-./target/debug/lotse}"
port="${2:-18090}"
tmp="$(mktemp -d)"
sim=""
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "$sim" ] && kill "$sim" 2>/dev/null && wait "$sim" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export LOTSE_PAYSIM_SECRET="ci-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$bin" paysim --listen 127.0.0.1:0 > "$tmp/paysim.out" 2> "$tmp/paysim.log" &
sim=$!
wait_for_line "$sim" "$tmp/paysim.out" '^paysim ' "paysim" "$tmp/paysim.log"
sim_url="$(sed -n 's/^paysim //p' "$tmp/paysim.out")"
[ -n "$sim_url" ] || { echo "paysim did not start"; cat "$tmp/paysim.log"; exit 1; }
cat > "$tmp/lotse.toml" <<TOML
[tenants.heinsberg.payment]
platform_url = "$sim_url"
merchant_id = "HEI-CI"
secret_env = "LOTSE_PAYSIM_SECRET"

[payment]
reconcile_seconds = 1
reconcile_after_seconds = 1
TOML
export LOTSE_CASEWORKER_PASSWORD="ci-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$bin" init --data "$tmp/portal" > /dev/null
LOTSE_ADMIN_PASSWORD="$LOTSE_CASEWORKER_PASSWORD" "$bin" admin --data "$tmp/portal" \
  add --tenant heinsberg --login sachbearbeitung --role case_worker --name "Sabine Beispiel" > /dev/null
LOTSE_DATA_DIR="$tmp/portal" LOTSE_LISTEN="127.0.0.1:$port" \
  "$bin" serve --config "$tmp/lotse.toml" > "$tmp/serve.log" 2>&1 &
server=$!
wait_for_http "$server" "http://127.0.0.1:$port/healthz" "the portal" "$tmp/serve.log"
status=0
(cd tests/browser && LOTSE_URL="http://127.0.0.1:$port" LOTSE_SHOTS="${LOTSE_SHOTS:-../../target/screenshots}" timeout 600 node payment.mjs) || status=$?
if [ "$status" != 0 ]; then
  echo "--- serve.log"; tail -50 "$tmp/serve.log"; echo "--- paysim.log"; tail -20 "$tmp/paysim.log"
fi
exit "$status"
