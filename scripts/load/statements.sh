#!/usr/bin/env bash
# Statements per complete application on PostgreSQL: pg_stat_statements over a short wrk run
# (one tenant, 4 connections, scripts/load/apply.lua), top-level and nested (triggers, foreign-key
# checks) alike. Usage: scripts/load/statements.sh PATH-TO-LOTSE [seconds]. Needs Debian's
# postgresql 15 (with its contrib) and wrk.
set -euo pipefail
cd "$(dirname "$0")/../.."
lotse="$1"; secs="${2:-5}"
bin=/usr/lib/postgresql/15/bin
tmp="$(mktemp -d)"; chmod 755 "$tmp"
pgport=55491; port=18291
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
mkdir -p "$tmp/pg" && { [ "$(id -u)" = 0 ] && chown postgres "$tmp/pg" || true; }
as_pg "$bin/initdb -D $tmp/pg/db -A trust -U lotse >/dev/null"
as_pg "$bin/pg_ctl -D $tmp/pg/db -o '-k $tmp/pg -c listen_addresses=127.0.0.1 -p $pgport -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all' -l $tmp/pg/log -w start >/dev/null"
pid=
cleanup() { [ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; as_pg "$bin/pg_ctl -D $tmp/pg/db -m fast stop >/dev/null" || true; rm -rf "$tmp"; }
trap cleanup EXIT
export LOTSE_DB="postgres://lotse@127.0.0.1:$pgport/postgres"
psql -q "$LOTSE_DB" -c "CREATE EXTENSION pg_stat_statements" >/dev/null
LOTSE_STORE_BACKEND=postgres LOTSE_STORE_URL_ENV=LOTSE_DB LOTSE_DATA_DIR="$tmp/node" LOTSE_LISTEN="127.0.0.1:$port" "$lotse" serve > "$tmp/node.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
psql -q "$LOTSE_DB" -c "SELECT pg_stat_statements_reset()" >/dev/null
LOTSE_LOAD_TENANT=heinsberg wrk -t1 -c4 -d"${secs}s" -s scripts/load/apply.lua "http://127.0.0.1:$port" | grep -E "applications/s|failed"
n=$(psql -tA "$LOTSE_DB" -c "SELECT count(*) FROM submissions")
echo "submissions: $n"
psql "$LOTSE_DB" -c "SELECT calls, round(calls::numeric / $n, 2) AS per_app, left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 25"
psql -tA "$LOTSE_DB" -c "SELECT 'statements per application: ' || round(sum(calls)::numeric / $n, 2) FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'"
