#!/usr/bin/env python3
"""Load of complete applications with online payment, through the payment platform simulator.

Each of C citizens (a thread with keep-alive connections to Lotse and to the simulator) runs one
application after another: start a Bewohnerparkausweis, answer its four steps, "Absenden und
bezahlen" (202, payment pending), pay at the simulator's pay page (the notification goes to
Lotse at once), come back by the return URL (Lotse asks the platform), and wait until the
payment reads paid with its submission. Prints completed applications per second and the
latency of a whole application and of its payment part (send → paid and delivered), p50 and p99.

Standard library only. Run through scripts/load/payment.sh.
"""

import argparse
import datetime
import http.client
import json
import threading
import time
import urllib.parse

API = "/api/v1/tenants/heinsberg"


class Conn:
    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.c = None

    def req(self, method, path, body=None, form=None):
        for attempt in range(2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
                headers = {}
                data = None
                if body is not None:
                    data = json.dumps(body).encode()
                    headers["Content-Type"] = "application/json"
                if form is not None:
                    data = urllib.parse.urlencode(form).encode()
                    headers["Content-Type"] = "application/x-www-form-urlencoded"
                self.c.request(method, path, body=data, headers=headers)
                r = self.c.getresponse()
                raw = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, raw, r.getheader("Location")
            except (OSError, http.client.HTTPException):
                if self.c is not None:
                    self.c.close()
                self.c = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")


def steps():
    today = datetime.date.today().isoformat()
    return [
        ("antragsteller", {
            "person": {"anrede": "Herr", "vorname": "Jan", "nachname": "Hermanns",
                       "geburtsdatum": "1979-08-23"},
            "meldeadresse": {"strasse": "Hochstraße", "hausnummer": "112", "plz": "52525",
                             "ort": "Heinsberg"},
            "kontakt": {"email": "jan@example.org"}, "zone": "A", "wohnt_in_zone": True}),
        ("fahrzeug", {"fahrzeug": {"kennzeichen": "HS-JH 112", "hersteller": "VW",
                                   "modell": "Golf", "fahrzeugart": "Pkw",
                                   "halter_art": "privat"},
                      "auf_sie_zugelassen": "ja"}),
        ("gueltigkeit", {"jahre": 2, "beginn": today}),
        ("zahlung", {"zahlungsart": "online"}),
    ]


def citizen(lotse, sim, until, results, errors, lock):
    lc, sc = Conn(lotse), Conn(sim)
    answers = steps()
    while time.monotonic() < until:
        try:
            t0 = time.monotonic()
            s, raw, _ = lc.req("POST", f"{API}/services/bewohnerparkausweis/applications", {})
            v = json.loads(raw)
            app, rev = v["id"], v["revision"]
            for step, values in answers:
                s, raw, _ = lc.req("PUT", f"{API}/applications/{app}/steps/{step}",
                                   {"revision": rev, "values": values})
                rev = json.loads(raw)["revision"]
            t1 = time.monotonic()
            s, raw, _ = lc.req("POST", f"{API}/applications/{app}/submit",
                               {"revision": rev, "declaration": ["richtig", "rueckgabe"]})
            if s != 202:
                raise RuntimeError(f"submit {s}")
            p = json.loads(raw)["payment"]
            pay_path = urllib.parse.urlparse(p["links"]["pay_page"]).path
            s, _, back = sc.req("POST", pay_path, form={"methode": "giropay", "ergebnis": "paid",
                                                         "benachrichtigung": "now"})
            s, _, _ = lc.req("GET", urllib.parse.urlparse(back).path)
            while True:
                s, raw, _ = lc.req("GET", f"{API}/payments/{p['id']}")
                v = json.loads(raw)
                if v["state"] == "paid" and "submission" in v["links"]:
                    break
                time.sleep(0.01)
            t2 = time.monotonic()
            with lock:
                results.append((t2 - t0, t2 - t1))
        except Exception as e:  # noqa: BLE001
            with lock:
                errors.append(repr(e))


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lotse", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--citizens", type=int, default=8)
    a = ap.parse_args()
    results, errors, lock = [], [], threading.Lock()
    started = time.monotonic()
    until = started + a.seconds
    ts = [threading.Thread(target=citizen, args=(a.lotse, a.sim, until, results, errors, lock))
          for _ in range(a.citizens)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.monotonic() - started
    whole = [r[0] for r in results]
    paying = [r[1] for r in results]
    print(f"complete applications with payment: {len(results)} in {elapsed:.1f} s = "
          f"{len(results) / elapsed:.1f}/s ({a.citizens} citizens), {len(errors)} errors")
    print(f"  whole application (start, 4 steps, send, pay, return, delivered): "
          f"p50 {pct(whole, 0.5) * 1000:.0f} ms, p99 {pct(whole, 0.99) * 1000:.0f} ms")
    print(f"  payment part (send → paid and in the Postkorb): "
          f"p50 {pct(paying, 0.5) * 1000:.0f} ms, p99 {pct(paying, 0.99) * 1000:.0f} ms")
    for e in errors[:5]:
        print(f"  error: {e}")


if __name__ == "__main__":
    main()
