#!/usr/bin/env bash
# Complete applications with online payment per second, through the payment platform simulator
# (`lotse paysim`), against a release build with a fresh data folder: see scripts/load/payment.py.
# Usage: scripts/load/payment.sh [seconds] [citizens]
# LOTSE_LOAD_BIN=PATH runs that lotse binary instead of building target/release/lotse.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-20}"
citizens="${2:-8}"
port="${LOTSE_LOAD_PORT:-18191}"
lotse="${LOTSE_LOAD_BIN:-./target/release/lotse}"
[ -n "${LOTSE_LOAD_BIN:-}" ] || cargo build -q --release -p lotse-server
tmp="$(mktemp -d)"
export LOTSE_PAYSIM_SECRET="load-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$lotse" paysim --listen 127.0.0.1:0 > "$tmp/paysim.out" 2>/dev/null &
sim=$!
trap 'kill $server $sim 2>/dev/null || true; wait $server $sim 2>/dev/null || true; rm -rf "$tmp"' EXIT
server=""
for _ in $(seq 1 100); do grep -q '^paysim ' "$tmp/paysim.out" && break; sleep 0.1; done
sim_url="$(sed -n 's/^paysim //p' "$tmp/paysim.out")"
printf '[tenants.heinsberg.payment]\nplatform_url = "%s"\nmerchant_id = "HEI-LOAD"\nsecret_env = "LOTSE_PAYSIM_SECRET"\n' \
  "$sim_url" > "$tmp/lotse.toml"
LOTSE_DATA_DIR="$tmp/data" LOTSE_LISTEN="127.0.0.1:$port" "$lotse" serve --config "$tmp/lotse.toml" \
  > "$tmp/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
python3 scripts/load/payment.py --lotse "http://127.0.0.1:$port" --sim "$sim_url" \
  --seconds "$secs" --citizens "$citizens"
echo "== server RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status), peak $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status)"
echo "== server: $(grep -c '"status":5' "$tmp/serve.log" || true) responses with 5xx"
