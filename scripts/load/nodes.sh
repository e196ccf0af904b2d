#!/usr/bin/env bash
# One vs two Lotse nodes on one PostgreSQL database, on loopback: complete applications through
# the JSON API with wrk (scripts/load/apply.lua), two tenants at once (submissions of one tenant
# share its reference counter, so two tenants show what more nodes can add).
#   one node:  wrk (Heinsberg) and wrk (Erkelenz) both against node A
#   two nodes: wrk (Heinsberg) against node A, wrk (Erkelenz) against node B
# Needs Debian's postgresql (initdb, pg_ctl) and wrk. Usage: scripts/load/nodes.sh [seconds]
# LOTSE_LOAD_NODES=1 runs the one-node part only; LOTSE_LOAD_PORT (18281, and the next one) and
# LOTSE_LOAD_PG_PORT (55433) move the ports. LOTSE_LOAD_BIN=PATH runs that lotse binary
# instead of building target/release/lotse (to compare two builds, run them alternately).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-15}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
bin=/usr/lib/postgresql/15/bin
lotse="${LOTSE_LOAD_BIN:-./target/release/lotse}"
[ -n "${LOTSE_LOAD_BIN:-}" ] || cargo build -q --release -p lotse-server
tmp="$(mktemp -d)"
chmod 755 "$tmp"
pgport="${LOTSE_LOAD_PG_PORT:-55433}"
port="${LOTSE_LOAD_PORT:-18281}"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
mkdir -p "$tmp/pg" && { [ "$(id -u)" = 0 ] && chown postgres "$tmp/pg" || true; }
as_pg "$bin/initdb -D $tmp/pg/db -A trust -U lotse >/dev/null"
as_pg "$bin/pg_ctl -D $tmp/pg/db -o '-k $tmp/pg -c listen_addresses=127.0.0.1 -p $pgport' -l $tmp/pg/log -w start >/dev/null"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  as_pg "$bin/pg_ctl -D $tmp/pg/db -m fast stop >/dev/null" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export LOTSE_DB="postgres://lotse@127.0.0.1:$pgport/postgres"
node() {
  LOTSE_STORE_BACKEND=postgres LOTSE_STORE_URL_ENV=LOTSE_DB LOTSE_DATA_DIR="$tmp/node$1" \
    LOTSE_LISTEN="127.0.0.1:$2" "$lotse" serve > "$tmp/node$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return; sleep 0.2; done
  echo "node $1 did not start" >&2; cat "$tmp/node$1.log" >&2; exit 1
}
pair() {
  LOTSE_LOAD_TENANT=heinsberg wrk -t1 -c16 -d"${secs}s" -s scripts/load/apply.lua "http://127.0.0.1:$1" > "$tmp/a.txt" &
  local a=$!
  LOTSE_LOAD_TENANT=erkelenz wrk -t1 -c16 -d"${secs}s" -s scripts/load/apply.lua "http://127.0.0.1:$2" > "$tmp/b.txt" &
  wait $a $!
  for f in a b; do grep -E "applications/s|per request|per application|failed" "$tmp/$f.txt" | sed "s/^/  $f: /"; done
  echo "  sum: $(cat "$tmp/a.txt" "$tmp/b.txt" | awk '/^applications\/s:/ {s += $2} END {print s}') applications/s"
}
node A "$port"
echo "== one node (A), two tenants"
pair "$port" "$port"
if [ "${LOTSE_LOAD_NODES:-2}" != 1 ]; then
  node B $((port + 1))
  echo "== two nodes (A, B), one tenant each"
  pair "$port" $((port + 1))
fi
echo "== 5xx answers: $(cat "$tmp"/node*.log | grep -c '"status":5' || true)"
