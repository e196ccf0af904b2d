#!/usr/bin/env python3
"""Crash test of online payment: `kill -9` of `lotse serve` between payment and notification.

The payment platform simulator (`lotse paysim`) runs as a process of its own for the whole test;
`lotse serve` has Heinsberg connected to it and a fast reconciliation job. Each round two
citizens send a Bewohnerparkausweis with "Absenden und bezahlen" through the JSON API; citizen A
pays at the platform, whose notification is due a moment later, and Lotse is killed with SIGKILL
(on PostgreSQL every second round the database cluster too) before it comes; citizen B pays while
Lotse is down. After the restart every payment of the round must reach the office: the payment
reads `paid` with a submission, the submission carries the platform's transaction id and the
amount charged, and the application answers as submitted. After the last round: every payment
the platform charged has exactly one submission, nothing was charged twice, and no unpaid
application became a submission. Exits 1 on any violation.

Standard library only; reuses the server and cluster handling of crash.py.
Usage: scripts/crash/payment.py --bin target/debug/lotse --backend sled --rounds 20
"""

import argparse
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash import Client, Cluster, Down, Server, tail  # noqa: E402

TENANT = "heinsberg"
SERVICE = "bewohnerparkausweis"
API = f"/api/v1/tenants/{TENANT}"


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


class PayServer(Server):
    """`lotse serve --config FILE`."""

    def __init__(self, binary, root, port, env, config):
        super().__init__(binary, root, port, env)
        self.config = config

    def start(self):
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config],
                                     env=self.env, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)


def send(port):
    """One citizen up to "Absenden und bezahlen": (application id, payment)."""
    c = Client(port)
    status, v = c.request("POST", f"{API}/services/{SERVICE}/applications", {})
    assert status == 201, (status, v)
    app_id, rev = v["id"], v["revision"]
    for step, values in steps():
        status, v = c.request("PUT", f"{API}/applications/{app_id}/steps/{step}",
                              {"revision": rev, "values": values})
        assert status == 200, (step, status, v)
        rev = v["revision"]
    status, v = c.request("POST", f"{API}/applications/{app_id}/submit",
                          {"revision": rev, "declaration": ["richtig", "rueckgabe"]})
    c.close()
    assert status == 202, (status, v)
    return app_id, v["payment"]


def sim_call(sim, method, path, form=None):
    u = urllib.parse.urlparse(sim)
    import http.client
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    body = None if form is None else urllib.parse.urlencode(form)
    headers = {} if form is None else {"Content-Type": "application/x-www-form-urlencoded"}
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    conn.close()
    return r.status, raw


def pay(sim, pay_page, notify):
    path = urllib.parse.urlparse(pay_page).path
    status, _ = sim_call(sim, "POST", path, {"methode": "giropay", "ergebnis": "paid",
                                              "benachrichtigung": notify})
    assert status == 303, status


def settled(port, payment_id, timeout):
    """The payment once it reads paid with a submission, or None after `timeout` seconds."""
    c = Client(port, timeout=10)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, v = c.request("GET", f"{API}/payments/{payment_id}")
            if status == 200 and v["state"] == "paid" and "submission" in v["links"]:
                c.close()
                return v
        except Down:
            pass
        time.sleep(0.2)
    c.close()
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sled", "postgres"], default="sled")
    ap.add_argument("--bin", default="target/release/lotse")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--port", type=int, default=18393)
    ap.add_argument("--pg-port", type=int, default=55543)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    print(f"payment crash test: {a.backend}, {a.rounds} rounds, seed {seed}", flush=True)
    started = time.monotonic()
    root = tempfile.mkdtemp(prefix="lotse-paycrash-")
    os.chmod(root, 0o755)
    secret = os.urandom(16).hex()
    sim_proc = None
    server = None
    cluster = None
    violations = []
    payments = {}  # payment id -> (application id, expected cents)
    db_kills = 0
    try:
        sim_env = dict(os.environ, LOTSE_PAYSIM_SECRET=secret)
        sim_out = open(os.path.join(root, "paysim.out"), "w+")
        sim_proc = subprocess.Popen([a.bin, "paysim", "--listen", "127.0.0.1:0"], env=sim_env,
                                    stdout=sim_out, stderr=subprocess.DEVNULL)
        sim = None
        for _ in range(100):
            sim_out.seek(0)
            line = sim_out.readline()
            if line.startswith("paysim "):
                sim = line.split()[1]
                break
            time.sleep(0.1)
        if sim is None:
            raise RuntimeError("lotse paysim did not start")
        # A late notification comes after 1.5 s: Lotse is dead by then.
        sim_call(sim, "POST", "/steuerung", {"benachrichtigung": "late",
                                              "verzoegerung_ms": "1500"})
        config = os.path.join(root, "lotse.toml")
        with open(config, "w") as f:
            f.write(f'[tenants.{TENANT}.payment]\nplatform_url = "{sim}"\n'
                    f'merchant_id = "HEI-CRASH"\nsecret_env = "LOTSE_PAYSIM_SECRET"\n\n'
                    f'[payment]\nreconcile_seconds = 0.5\nreconcile_after_seconds = 0.5\n')
        env = {"LOTSE_PAYSIM_SECRET": secret}
        if a.backend == "postgres":
            cluster = Cluster(root, a.pg_port)
            env.update({"LOTSE_STORE_BACKEND": "postgres", "LOTSE_STORE_URL_ENV": "LOTSE_CRASH_DB",
                        "LOTSE_CRASH_DB": cluster.url})
        server = PayServer(a.bin, root, a.port, env, config)
        server.start()
        server.wait_ready()
        for rnd in range(1, a.rounds + 1):
            app_a, pay_a = send(a.port)
            app_b, pay_b = send(a.port)
            for app_id, p in ((app_a, pay_a), (app_b, pay_b)):
                payments[p["id"]] = (app_id, p["amount_cents"])
            # A pays; its notification is due in 1.5 s (or never): kill before it comes.
            pay(sim, pay_a["links"]["pay_page"], rng.choice(["late", "never"]))
            time.sleep(rng.uniform(0, 0.3))
            server.kill_9()
            if cluster is not None and rnd % 2 == 0:
                cluster.kill_9()
                db_kills += 1
                cluster.start()
            # B pays while Lotse is down; the platform's notification finds nobody.
            pay(sim, pay_b["links"]["pay_page"], "now")
            server.start()
            server.wait_ready()
            for pid in (pay_a["id"], pay_b["id"]):
                v = settled(a.port, pid, 30)
                if v is None:
                    violations.append(f"round {rnd}: payment {pid} did not reach the office")
                    print(f"VIOLATION (lost): round {rnd}: payment {pid}", flush=True)
            print(f"round {rnd}: killed after payment, restarted, both payments delivered",
                  flush=True)
        # Everything again, against what the platform charged.
        status, raw = sim_call(sim, "GET", "/api/v1/uebersicht")
        charged = json.loads(raw)
        c = Client(a.port)
        submissions = set()
        for p in charged:
            if p["charges"] > 1:
                violations.append(f"platform payment {p['id']} charged {p['charges']} times")
        by_payment = {}
        for pid, (app_id, cents) in payments.items():
            status, v = c.request("GET", f"{API}/payments/{pid}")
            if status != 200 or v["state"] != "paid" or "submission" not in v["links"]:
                violations.append(f"payment {pid}: {status} {v}")
                continue
            sid = v["links"]["submission"].rsplit("/", 1)[1]
            if sid in submissions:
                violations.append(f"submission {sid} for two payments")
            submissions.add(sid)
            by_payment[pid] = sid
            status, s = c.request("GET", f"{API}/submissions/{sid}")
            paid = s.get("payment") or {}
            matching = [q for q in charged if q["charges"] == 1 and
                        q["transaction_id"] == paid.get("transaction_id")]
            if status != 200 or paid.get("amount_cents") != cents or len(matching) != 1 or \
                    matching[0]["request"]["amount_cents"] != cents:
                violations.append(f"submission {sid}: payment {paid} does not match the platform")
            status, st = c.request("GET", f"{API}/applications/{app_id}")
            if status != 200 or st.get("position") != "submitted":
                violations.append(f"application {app_id} answers {status} {st.get('position')}")
        charges = sum(p["charges"] for p in charged)
        if charges != len(by_payment):
            violations.append(f"the platform charged {charges} times for {len(by_payment)} "
                              f"delivered payments")
        c.close()
        server.stop()
        elapsed = time.monotonic() - started
        print(f"payment crash test {a.backend}: {a.rounds} rounds ({a.rounds} kills of lotse, "
              f"{db_kills} of the database), {len(payments)} payments, {charges} charges, "
              f"{len(submissions)} submissions, {len(violations)} violations, "
              f"{elapsed:.0f} s, seed {seed}", flush=True)
    except Exception as e:  # noqa: BLE001
        violations.append(f"test error: {e!r}")
        print(f"ERROR: {e!r}", flush=True)
        tail(os.path.join(root, "serve.log"))
    finally:
        if server is not None and server.proc is not None and server.proc.poll() is None:
            server.kill_9()
        if sim_proc is not None:
            sim_proc.terminate()
            sim_proc.wait()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    if violations:
        for v in violations:
            print(f"VIOLATION: {v}")
        sys.exit(1)


if __name__ == "__main__":
    main()
