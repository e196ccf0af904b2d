#!/usr/bin/env bash
# The payment browser test (tests/browser/payment.mjs) with what it needs: the payment platform
# simulator (`lotse paysim`) and a portal of its own on a fresh data folder with a case worker,
# Heinsberg connected to the simulator, and a fast reconciliation job. Both are stopped at the end.
# Usage: tests/browser/payment.sh [LOTSE_BIN] [PORT]   (from the repository root)
set -euo pipefail
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
for _ in $(seq 1 100); do grep -q '^paysim ' "$tmp/paysim.out" 2>/dev/null && break; sleep 0.1; done
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
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
  sleep 0.2
done
status=0
(cd tests/browser && LOTSE_URL="http://127.0.0.1:$port" LOTSE_SHOTS="${LOTSE_SHOTS:-../../target/screenshots}" timeout 600 node payment.mjs) || status=$?
if [ "$status" != 0 ]; then
  echo "--- serve.log"; tail -50 "$tmp/serve.log"; echo "--- paysim.log"; tail -20 "$tmp/paysim.log"
fi
exit "$status"
