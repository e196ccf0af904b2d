#!/usr/bin/env bash
# Load test of the JSON API with wrk (Debian package `wrk`) on loopback, against a release build
# with a fresh data folder. Prints a baseline (GET /healthz), step answers per second and complete
# applications per second, each with latencies.
# Usage: scripts/load/run.sh [seconds] [connections] [connections for complete applications]
# LOTSE_LOAD_DATA=DIR starts from a copy of the data folder DIR instead of an empty one (for
# example a store filled with a million drafts by `store_load fill DIR/store N`); the run waits
# for the server's first housekeeping, so that it does not overlap the measurement.
# LOTSE_LOAD_BIN=PATH runs that lotse binary instead of building target/release/lotse.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-20}"
conns="${2:-32}"
# Complete applications: each connection runs one application after another, so the
# connections are the citizens submitting at the same moment; 16 by default.
apply_conns="${3:-16}"
threads=2
port="${LOTSE_LOAD_PORT:-18181}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
lotse="${LOTSE_LOAD_BIN:-./target/release/lotse}"
[ -n "${LOTSE_LOAD_BIN:-}" ] || cargo build -q --release -p lotse-server
tmp="$(mktemp -d)"
if [ -n "${LOTSE_LOAD_DATA:-}" ]; then
  cp -a "$LOTSE_LOAD_DATA" "$tmp/data"
fi
LOTSE_DATA_DIR="$tmp/data" LOTSE_LISTEN="127.0.0.1:$port" "$lotse" serve > "$tmp/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; [ -n "${LOTSE_LOAD_KEEP:-}" ] && cp "$tmp/serve.log" "$LOTSE_LOAD_KEEP"; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
if [ -n "${LOTSE_LOAD_DATA:-}" ]; then
  for _ in $(seq 1 600); do
    grep -q '"maintenance"' "$tmp/serve.log" && break
    sleep 0.5
  done
  grep '"maintenance"' "$tmp/serve.log" | head -n 1
  echo "== server RSS after its housekeeping: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"
fi
url="http://127.0.0.1:$port"
# Applications to answer: 1,024, each started once (from one Python process: a process per
# application took minutes where Python starts slowly).
python3 - "$url/api/v1/tenants/heinsberg/services/hundesteuer-anmeldung/applications" \
  > "$tmp/ids.txt" <<'PY'
import json, sys, urllib.request
for _ in range(1024):
    req = urllib.request.Request(sys.argv[1], data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        d = json.load(r)
    print(d["id"], d["revision"])
PY

echo "== baseline: GET /healthz (${secs}s, $conns connections, $threads threads)"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$url/healthz" | grep -E "Requests/sec|99%|50%"
echo "== step answers: PUT .../steps/halter"
LOTSE_LOAD_IDS="$tmp/ids.txt" LOTSE_LOAD_THREADS="$threads" \
  wrk -t"$threads" -c"$conns" -d"${secs}s" -s scripts/load/step.lua "$url" | tail -1
echo "== complete applications: start, six steps, submit with signed receipt (durable)"
echo "   ($apply_conns connections)"
wrk -t"$threads" -c"$apply_conns" -d"${secs}s" -s scripts/load/apply.lua "$url" | tail -4
echo "== server RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status), peak $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status)"
echo "== server: $(grep -c '"status":5' "$tmp/serve.log" || true) responses with 5xx"
