#!/usr/bin/env bash
# The uploads browser test (tests/browser/uploads.mjs) with what it needs: a clamd of its own
# (Debian's clamav-daemon) on loopback with a signature database of one line that knows the
# EICAR test file (no signature download is possible or needed), and a portal of its own on a
# fresh data folder that scans through it, with a case worker. Both are stopped at the end.
# Usage: tests/browser/uploads.sh [LOTSE_BIN] [PORT] [CLAMD_PORT]   (from the repository root)
set -euo pipefail
. "$(dirname "$0")/wait.sh"
bin="${1:-./target/debug/lotse}"
port="${2:-18120}"
clamd_port="${3:-18130}"
tmp="$(mktemp -d)"
clamd=""
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "$clamd" ] && kill "$clamd" 2>/dev/null && wait "$clamd" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
mkdir -p "$tmp/db"
printf '%s' "$eicar" > "$tmp/eicar.pdf"
echo "$(md5sum < "$tmp/eicar.pdf" | cut -d' ' -f1):$(stat -c %s "$tmp/eicar.pdf"):Lotse.Test.EICAR" > "$tmp/db/lotse-test.hdb"
cat > "$tmp/clamd.conf" <<CONF
DatabaseDirectory $tmp/db
TCPSocket $clamd_port
TCPAddr 127.0.0.1
Foreground yes
LogFile $tmp/clamd.log
StreamMaxLength 30M
CONF
/usr/sbin/clamd -c "$tmp/clamd.conf" > /dev/null 2>&1 &
clamd=$!
for _ in $(seq 1 300); do
  printf 'zPING\0' | timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$clamd_port; cat >&3; head -c 4 <&3" 2>/dev/null | grep -q PONG && break
  sleep 0.2
done
cat > "$tmp/lotse.toml" <<TOML
[uploads]
clamd = "127.0.0.1:$clamd_port"
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
(cd tests/browser && LOTSE_URL="http://127.0.0.1:$port" LOTSE_EICAR="$tmp/eicar.pdf" \
  LOTSE_SHOTS="${LOTSE_SHOTS:-../../target/screenshots}" timeout 600 node uploads.mjs) || status=$?
if [ "$status" != 0 ]; then
  echo "--- serve.log"; tail -50 "$tmp/serve.log"; echo "--- clamd.log"; tail -20 "$tmp/clamd.log"
fi
exit "$status"
