#!/usr/bin/env python3
"""A real SAML 2.0 identity provider for Lotse's tests, on loopback: pysaml2's Server with a
login page and test users of each BundID trust level (docs/login.md).

    saml_idp.py --port 18200 --key idp.key --cert idp.crt --sp-metadata sp.xml

It takes AuthnRequests by HTTP-Redirect (their signature checked against the SP metadata),
shows a login form, and answers by HTTP-POST with a signed assertion encrypted for the SP, as
BundID does, with the user's STORK level and attributes by OID. It takes signed LogoutRequests
by HTTP-Redirect at /slo (single logout) and answers with a signed LogoutResponse to the SP's
SingleLogoutService; /slo-log lists the NameIDs it signed out. /initiate-logout?name_id=…&sp=…
starts a single logout from the IdP's side (a signed LogoutRequest to the SP by HTTP-Redirect);
the SP's LogoutResponse comes back to /slo and /slo-answers lists its status. Prints READY when
it listens.
Test data only: the users and passwords below are not secrets.
"""

import argparse
import html
import os
import re
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
import saml2.entity
import saml2.sigver

# BundID encrypts with AES; pysaml2's default session key is 3DES, which Lotse does not accept.
AES128 = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
_pre_encryption_part = saml2.sigver.pre_encryption_part
_encrypt_assertion = saml2.sigver.SecurityContext.encrypt_assertion


def _aes_part(**kw):
    kw.setdefault("msg_enc", AES128)
    return _pre_encryption_part(**kw)


def _aes_encrypt(self, statement, enc_key, template, key_type="aes-128", node_xpath=None):
    return _encrypt_assertion(self, statement, enc_key, template, "aes-128", node_xpath)


saml2.entity.pre_encryption_part = _aes_part
saml2.sigver.SecurityContext.encrypt_assertion = _aes_encrypt

DSIG = "http://www.w3.org/2000/09/xmldsig#"


def declare_keyinfo_namespace(xml):
    """Writes the encrypted assertion's XML-DSig elements with the prefix `ds`, declared on each
    KeyInfo, as OpenSAML-based providers like BundID do (samael reads that declaration; pysaml2
    writes `ns1` declared further up). Only the unsigned envelope changes: the signed assertion
    is inside the encryption."""
    a = xml.find(":EncryptedData ")
    b = xml.find(":EncryptedData>", a)
    if a < 0 or b < 0:
        return xml
    a = xml.rfind("<", 0, a)
    b = b + len(":EncryptedData>")
    part = xml[a:b]
    m = re.search(r'xmlns:(\w+)="' + re.escape(DSIG) + '"', part)
    if not m:
        return xml
    p = m.group(1)
    part = part.replace(f'xmlns:{p}="{DSIG}"', f'xmlns:ds="{DSIG}"')
    part = part.replace(f"<{p}:", "<ds:").replace(f"</{p}:", "</ds:")
    part = part.replace("<ds:KeyInfo>", f'<ds:KeyInfo xmlns:ds="{DSIG}">')
    return xml[:a] + part + xml[b:]


# user -> (password, STORK level, attributes)
USERS = {
    "erika": ("passwort-erika", "STORK-QAA-Level-3", {
        "pseudonym": "bPK2-erika-0001",
        "given_name": "Erika",
        "family_name": "Mustermann",
        "birth_date": "1964-08-12",
        "street": "Heidestraße",
        "postal_code": "52525",
        "city": "Heinsberg",
        "email": "erika@example.org",
    }),
    "bruno": ("passwort-bruno", "STORK-QAA-Level-1", {
        "pseudonym": "bPK2-bruno-0002",
        "given_name": "Bruno",
        "family_name": "Basis",
        "email": "bruno@example.org",
    }),
    "hanna": ("passwort-hanna", "STORK-QAA-Level-4", {
        "pseudonym": "bPK2-hanna-0003",
        "given_name": "Hanna",
        "family_name": "Hoch",
        "birth_date": "1990-01-31",
        "street": "Apfelweg",
        "postal_code": "41812",
        "city": "Erkelenz",
    }),
}

PAGE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>BundID (Test)</title></head>
<body><main><h1>BundID – Anmeldung (Testdienst)</h1>{error}
<form method="post" action="/login">
<input type="hidden" name="key" value="{key}">
<p><label for="user">Benutzername</label> <input id="user" name="user" autocomplete="username"></p>
<p><label for="password">Passwort</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit">Anmelden</button></p>
</form></main></body></html>"""


def make_server(args):
    here = os.path.dirname(os.path.abspath(__file__))
    base = f"http://127.0.0.1:{args.port}"
    conf = IdPConfig()
    conf.load({
        "entityid": f"{base}/idp",
        "xmlsec_binary": "/usr/bin/xmlsec1",
        # RSA-SHA256 as BundID signs (pysaml2's default, SHA-1, Lotse refuses).
        "signing_algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
        "attribute_map_dir": os.path.join(here, "attributemaps"),
        "key_file": args.key,
        "cert_file": args.cert,
        "encryption_keypairs": [{"key_file": args.key, "cert_file": args.cert}],
        "metadata": {"local": [args.sp_metadata]},
        "service": {"idp": {
            "endpoints": {
                "single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)],
                "single_logout_service": [(f"{base}/slo", BINDING_HTTP_REDIRECT)],
            },
            "want_authn_requests_signed": True,
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}},
        }},
    })
    return Server(config=conf)


RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


class Handler(BaseHTTPRequestHandler):
    idp = None
    pending = {}
    signed_out = []
    answers = []

    def log_message(self, *a):  # quiet
        pass

    def send_html(self, body, status=200):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/healthz":
            return self.send_html("ok")
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/slo-log":
            return self.send_html("\n".join(self.signed_out))
        if url.path == "/slo-answers":
            return self.send_html("\n".join(self.answers))
        if url.path == "/initiate-logout":
            return self.initiate_logout(q)
        if url.path == "/slo" and "SAMLResponse" in q:
            try:
                resp = self.idp.parse_logout_request_response(q["SAMLResponse"], BINDING_HTTP_REDIRECT)
                self.answers.append(resp.response.status.status_code.value)
            except Exception as e:
                self.answers.append(f"refused: {type(e).__name__}")
            return self.send_html("<p>Abgemeldet.</p>")
        if url.path == "/slo":
            return self.single_logout(q)
        if url.path != "/sso":
            return self.send_html("not found", 404)
        try:
            req = self.idp.parse_authn_request(
                q["SAMLRequest"], BINDING_HTTP_REDIRECT,
                relay_state=q.get("RelayState"), sigalg=q.get("SigAlg"), signature=q.get("Signature"))
        except Exception as e:  # a refused request: say so, as a real IdP would
            return self.send_html(f"<p>Anfrage abgelehnt: {html.escape(type(e).__name__)}</p>", 400)
        key = secrets.token_hex(16)
        self.pending[key] = (req.message, q.get("RelayState", ""))
        self.send_html(PAGE.format(key=key, error=""))

    def redirect(self, location):
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def initiate_logout(self, q):
        sp = q["sp"]
        _, destination = self.idp.pick_binding(
            "single_logout_service", [BINDING_HTTP_REDIRECT], "spsso", entity_id=sp)
        _, req = self.idp.create_logout_request(
            destination, issuer_entity_id=sp,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=q["name_id"]))
        http = self.idp.apply_binding(
            BINDING_HTTP_REDIRECT, str(req), destination, "", sign=True, sigalg=RSA_SHA256)
        self.redirect(dict(http["headers"])["Location"])

    def single_logout(self, q):
        try:
            req = self.idp.parse_logout_request(
                q["SAMLRequest"], BINDING_HTTP_REDIRECT,
                relay_state=q.get("RelayState"), sigalg=q.get("SigAlg"), signature=q.get("Signature"))
        except Exception as e:  # unsigned, wrongly signed or garbled: refused
            return self.send_html(f"<p>Abmeldung abgelehnt: {html.escape(type(e).__name__)}</p>", 400)
        self.signed_out.append(req.message.name_id.text)
        resp = self.idp.create_logout_response(req.message, [BINDING_HTTP_REDIRECT])
        _, destination = self.idp.pick_binding(
            "single_logout_service", [BINDING_HTTP_REDIRECT], "spsso", entity_id=req.message.issuer.text)
        http = self.idp.apply_binding(
            BINDING_HTTP_REDIRECT, str(resp), destination, q.get("RelayState", ""),
            response=True, sign=True, sigalg=RSA_SHA256)
        self.redirect(dict(http["headers"])["Location"])

    def do_POST(self):
        if self.path != "/login":
            return self.send_html("not found", 404)
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}
        key = form.get("key", "")
        if key not in self.pending:
            return self.send_html("<p>Unbekannte Anmeldung</p>", 400)
        user = USERS.get(form.get("user", ""))
        if user is None or user[0] != form.get("password"):
            err = '<p role="alert">Benutzername oder Passwort falsch.</p>'
            return self.send_html(PAGE.format(key=html.escape(key), error=err), 401)
        request, relay = self.pending.pop(key)
        _, level, attrs = user
        sp = request.issuer.text
        acs = request.assertion_consumer_service_url
        name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text=attrs["pseudonym"],
                         sp_name_qualifier=sp, name_qualifier=self.idp.config.entityid)
        resp = self.idp.create_authn_response(
            identity=attrs, in_response_to=request.id, destination=acs, sp_entity_id=sp,
            name_id=name_id, authn={"class_ref": level},
            sign_response=False, sign_assertion=True, encrypt_assertion=True,
            sign_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            digest_alg="http://www.w3.org/2001/04/xmlenc#sha256",
            encrypt_assertion_self_contained=True)
        http = self.idp.apply_binding(
            BINDING_HTTP_POST, declare_keyinfo_namespace(str(resp)), acs, relay, response=True)
        self.send_html(http["data"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--sp-metadata", required=True)
    args = ap.parse_args()
    Handler.idp = make_server(args)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("READY", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
