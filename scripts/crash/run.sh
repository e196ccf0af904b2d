#!/usr/bin/env bash
# Crash test of `lotse serve` under concurrent writers through the JSON API, on loopback, with
# a fresh data folder (and for PostgreSQL a throwaway cluster of Debian's postgresql 15 on a
# loopback port, stopped at the end): writers start, answer and submit applications, the
# server is killed with SIGKILL at random moments (on PostgreSQL every second round the whole
# database cluster too), restarted, and every acknowledged submission is checked: present,
# never reopened as an editable draft, a repeated submit answers 200 with the same reference,
# no reference twice. Exits non-zero on any violation. See scripts/crash/crash.py.
#
# Usage: scripts/crash/run.sh [sled|postgres|both] [rounds] [writers]
#   defaults: both, 24 rounds, 16 writers
# LOTSE_CRASH_BIN=PATH runs that lotse binary instead of building target/release/lotse.
# LOTSE_CRASH_SEED=N repeats a run's kill schedule (each run prints its seed);
# LOTSE_CRASH_PORT / LOTSE_CRASH_PG_PORT move the ports (18383, 55533).
set -euo pipefail
cd "$(dirname "$0")/../.."
backends="${1:-both}"
rounds="${2:-24}"
writers="${3:-16}"
lotse="${LOTSE_CRASH_BIN:-./target/release/lotse}"
[ -n "${LOTSE_CRASH_BIN:-}" ] || cargo build -q --release -p lotse-server
case "$backends" in
  both) backends="sled postgres" ;;
  sled | postgres) ;;
  *) echo "usage: $0 [sled|postgres|both] [rounds] [writers]" >&2; exit 2 ;;
esac
args=(--bin "$lotse" --rounds "$rounds" --writers "$writers"
  --port "${LOTSE_CRASH_PORT:-18383}" --pg-port "${LOTSE_CRASH_PG_PORT:-55533}")
[ -z "${LOTSE_CRASH_SEED:-}" ] || args+=(--seed "$LOTSE_CRASH_SEED")
for b in $backends; do
  python3 scripts/crash/crash.py --backend "$b" "${args[@]}"
done
