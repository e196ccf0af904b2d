#!/usr/bin/env bash
# The sign-in browser test (tests/browser/login.mjs) with what it needs: a real SAML identity
# provider (pysaml2's, tests/idp/saml_idp.py, from the venv named by LOTSE_IDP_PYTHON) and a
# portal of its own with [login] pointing at it, keys made here with openssl. Both are started
# on loopback and stopped at the end.
# Usage: tests/browser/login.sh [LOTSE_BIN] [PORT] [IDP_PORT]   (from the repository root)
set -euo pipefail
. "$(dirname "$0")/wait.sh"
bin="${1:-./target/debug/lotse}"
port="${2:-18100}"
idp_port="${3:-18110}"
python="${LOTSE_IDP_PYTHON:-python3}"
tmp="$(mktemp -d)"
idp=""
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "$idp" ] && kill "$idp" 2>/dev/null && wait "$idp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
for who in idp sp; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=lotse-test-$who" \
    -keyout "$tmp/$who.key" -out "$tmp/$who.crt" 2>/dev/null
done
idp_cert_b64="$(sed '/-----/d' "$tmp/idp.crt" | tr -d '\n')"
cat > "$tmp/idp.xml" <<XML
<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="http://127.0.0.1:$idp_port/idp">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>$idp_cert_b64</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:$idp_port/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:$idp_port/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
XML
cat > "$tmp/lotse.toml" <<TOML
[login]
public_url = "http://127.0.0.1:$port"
cookie_secure = false

[login.saml]
idp_metadata = "$tmp/idp.xml"
idp_certificate = "$tmp/idp.crt"
sp_key = "$tmp/sp.key"
sp_certificate = "$tmp/sp.crt"
TOML
"$bin" init --data "$tmp/portal" > /dev/null
LOTSE_DATA_DIR="$tmp/portal" LOTSE_LISTEN="127.0.0.1:$port" \
  "$bin" serve --config "$tmp/lotse.toml" > "$tmp/serve.log" 2>&1 &
server=$!
wait_for_http "$server" "http://127.0.0.1:$port/healthz" "the portal" "$tmp/serve.log"
curl -fsS "http://127.0.0.1:$port/konto/saml/metadata" -o "$tmp/sp.xml"
"$python" tests/idp/saml_idp.py --port "$idp_port" --key "$tmp/idp.key" --cert "$tmp/idp.crt" \
  --sp-metadata "$tmp/sp.xml" > "$tmp/idp.out" 2> "$tmp/idp.log" &
idp=$!
wait_for_line "$idp" "$tmp/idp.out" READY "the IdP" "$tmp/idp.log"
status=0
(cd tests/browser && LOTSE_URL="http://127.0.0.1:$port" LOTSE_SHOTS="${LOTSE_SHOTS:-../../target/screenshots}" \
  timeout 600 node login.mjs) || status=$?
if [ "$status" != 0 ]; then
  echo "--- serve.log"; tail -50 "$tmp/serve.log"; echo "--- idp.log"; tail -30 "$tmp/idp.log"
fi
exit "$status"
