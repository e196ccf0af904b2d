#!/usr/bin/env bash
# The sign-in browser test (tests/browser/login.mjs) against a real OpenID provider: npm's
# oidc-provider (tests/oidc/provider.mjs, installed by `npm ci` in tests/oidc) and a portal of
# its own with [login.oidc] pointing at it. Both are started on loopback and stopped at the end.
# Usage: tests/browser/oidc.sh [LOTSE_BIN] [PORT] [OP_PORT]   (from the repository root)
set -euo pipefail
. "$(dirname "$0")/wait.sh"
bin="${1:-./target/debug/lotse}"
port="${2:-18160}"
op_port="${3:-18170}"
tmp="$(mktemp -d)"
op=""
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "$op" ] && kill "$op" 2>/dev/null && wait "$op" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
secret="$(openssl rand -hex 24)"
printf '%s\n' "$secret" > "$tmp/oidc-secret"
node tests/oidc/provider.mjs --port "$op_port" --client-id lotse-browser --client-secret "$secret" \
  --redirect-uri "http://127.0.0.1:$port/konto/oidc/rueckkehr" \
  --post-logout-uri "http://127.0.0.1:$port/konto" > "$tmp/op.out" 2> "$tmp/op.log" &
op=$!
wait_for_line "$op" "$tmp/op.out" READY "the OpenID provider" "$tmp/op.log"
cat > "$tmp/lotse.toml" <<TOML
[login]
public_url = "http://127.0.0.1:$port"
cookie_secure = false

[login.oidc]
label = "Servicekonto"
issuer = "http://127.0.0.1:$op_port"
client_id = "lotse-browser"
client_secret_file = "$tmp/oidc-secret"
TOML
"$bin" init --data "$tmp/portal" > /dev/null
LOTSE_DATA_DIR="$tmp/portal" LOTSE_LISTEN="127.0.0.1:$port" \
  "$bin" serve --config "$tmp/lotse.toml" > "$tmp/serve.log" 2>&1 &
server=$!
wait_for_http "$server" "http://127.0.0.1:$port/healthz" "the portal" "$tmp/serve.log"
status=0
(cd tests/browser && LOTSE_URL="http://127.0.0.1:$port" LOTSE_LOGIN_KIND=oidc \
  LOTSE_SHOTS="${LOTSE_SHOTS:-../../target/screenshots}" timeout 600 node login.mjs) || status=$?
if [ "$status" != 0 ]; then
  echo "--- serve.log"; tail -50 "$tmp/serve.log"; echo "--- op.log"; tail -30 "$tmp/op.log"
fi
exit "$status"
