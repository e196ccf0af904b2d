#!/usr/bin/env bash
# Upload throughput and memory: N citizens (16 by default) each upload a 20 MB file at the same
# moment through the JSON API (the raw body of POST …/steps/antragsteller/files/
# nachweis_wohnung), against a release build on loopback with a fresh data folder, without a
# virus scanner (files kept as "nicht geprüft") or, with CLAMD=host:port, through that clamd.
# Each file is different (its own SHA-256); the lease field is widened to 25 MB for it. Prints the wall time, MB/s, and the server's
# resident memory before and at its peak (VmHWM), so the growth per concurrent upload shows
# that a file is streamed, not held.
# Usage: scripts/load/uploads.sh [uploads] [MB per file]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-16}"
mb="${2:-20}"
port="${LOTSE_LOAD_PORT:-18182}"
lotse="${LOTSE_LOAD_BIN:-./target/release/lotse}"
[ -n "${LOTSE_LOAD_BIN:-}" ] || cargo build -q --release -p lotse-server
tmp="$(mktemp -d)"
cfg="$tmp/lotse.toml"
: > "$cfg"
if [ -n "${CLAMD:-}" ]; then printf '[uploads]\nclamd = "%s"\n' "$CLAMD" > "$cfg"; fi
# The example project, with the lease field taking files of up to 25 MB (it allows 10).
mkdir -p "$tmp/project"
cp -r workflows forms pdf-templates portal "$tmp/project/"
sed -i 's/max_mb: 10$/max_mb: 25/' "$tmp/project/workflows/bewohnerparken/workflow.yaml"
LOTSE_DATA_DIR="$tmp/data" LOTSE_LISTEN="127.0.0.1:$port" "$lotse" serve --config "$cfg" "$tmp/project" > "$tmp/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
base="http://127.0.0.1:$port/api/v1/tenants/heinsberg"
# The files: a PDF's first and last bytes around random ones, one per citizen.
for i in $(seq 1 "$n"); do
  { printf '%%PDF-1.7\n'; head -c $((mb * 1024 * 1024 - 32)) /dev/urandom; printf '\ntrailer\n%%%%EOF\n'; } > "$tmp/f$i.pdf"
done
# One application per citizen.
for i in $(seq 1 "$n"); do
  curl -fs -X POST "$base/services/bewohnerparkausweis/applications" > "$tmp/a$i.json"
done
rss() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$server/status"; }
before=$(rss VmRSS)
start=$(date +%s.%N)
pids=()
for i in $(seq 1 "$n"); do
  id=$(sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p' "$tmp/a$i.json")
  rev=$(sed -n 's/.*"revision":\([0-9]*\).*/\1/p' "$tmp/a$i.json")
  curl -s -o "$tmp/r$i.json" -w '%{http_code}\n' -X POST -H 'Content-Type: application/octet-stream' \
    --data-binary "@$tmp/f$i.pdf" \
    "$base/applications/$id/steps/antragsteller/files/nachweis_wohnung?revision=$rev&name=f$i.pdf" > "$tmp/s$i" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
[ -n "${LOTSE_LOAD_DEBUG:-}" ] && { cat "$tmp"/r1.json; echo; cat "$tmp"/s1; }
end=$(date +%s.%N)
peak=$(rss VmHWM)
ok=$(cat "$tmp"/s* | grep -c '^200$' || true)
secs=$(echo "$end - $start" | bc -l)
echo "uploads: $ok of $n answered 200, ${mb} MB each"
printf 'wall time: %.2f s, throughput: %.1f MB/s\n' "$secs" "$(echo "$n * $mb / $secs" | bc -l)"
echo "server RSS before: $((before / 1024)) MB, peak: $((peak / 1024)) MB, growth per concurrent upload: $(( (peak - before) / n )) KB"
kept=$(find "$tmp/data/attachments" -type f | wc -l)
echo "attachments kept: $kept"
