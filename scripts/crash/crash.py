#!/usr/bin/env python3
"""Crash test of the whole server: concurrent citizens through the JSON API, `kill -9` of
`lotse serve` at random moments, then every acknowledged submission checked.

Writers (threads, one keep-alive connection each) start applications of the dog-tax assistant,
answer every step and submit. A submit answered 201 or 200 with a reference is acknowledged:
the application id, submission id and reference are recorded. After a random time the server
is killed with SIGKILL (on PostgreSQL every second round the database cluster too, postmaster
and every backend), restarted, and the acknowledgements of that round are checked through the
API:
  - the submission exists with the same reference (GET .../submissions/{id}),
  - the application answers as submitted (200, position `submitted`, linking to that
    submission), never as an editable draft,
  - a repeated submit answers 200 with the same submission and reference,
  - the receipt is there (GET .../receipt is a PDF).
Writers whose request was cut by the kill resynchronise after the restart (read the
application, submit again if it was at the review), as a citizen's app would. After the last
round everything acknowledged is checked again, the server is stopped and the store exported
(`lotse export`): every acknowledged submission is in it, no reference appears twice and no
application has two submissions. A real SMTP server (Debian's python3-aiosmtpd, writing a
maildir) receives the confirmation mails: before the server is stopped, every acknowledged
submission has its confirmation, and no submission has mails of two different events (a mail
sent again after a kill in the instant between the SMTP server's acceptance and the outbox's
mark carries the same Lotse-Idempotency-Key; those repeats are counted). Exits 1 on any
violation.

Standard library only. Run through scripts/crash/run.sh (builds the release binary).
"""

import argparse
import datetime
import email
import email.policy
import http.client
import json
import mailbox
import os
import socket
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SERVICE = "hundesteuer-anmeldung"
TENANTS = ["heinsberg", "erkelenz"]
PG_BIN = "/usr/lib/postgresql/15/bin"


def answers():
    """The answers of every step of the dog-tax assistant (a dog kept since a month ago)."""
    since = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()
    return {
        "halter": {
            "halter": {"anrede": "Frau", "vorname": "Anna", "nachname": "Schmitz",
                       "geburtsdatum": "1985-04-12"},
            "anschrift": {"strasse": "Valkenburger Straße", "hausnummer": "45",
                          "plz": "52525", "ort": "Heinsberg"},
            "kontakt": {"email": "anna@example.org"},
        },
        "hunde": {"hunde": [{"name": "Bello", "rasse": "Labrador",
                             "geburtsdatum": "2022-03-01", "kategorie": "normal"}]},
        "beginn": {"haltungsbeginn": since, "zuzug": "nein"},
        "ermaessigung": {"ermaessigung": "nein"},
        "zahlung": {"lastschrift": "nein"},
    }


# The statements of the workflow's declaration, ticked with every submit.
DECLARED = ["richtig"]


class Down(Exception):
    """The server did not answer (connection refused, reset, cut, or a 5xx)."""


class Client:
    """One keep-alive HTTP/1.1 connection to the server on loopback."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None):
        """(status, parsed JSON or raw bytes); raises Down when the server did not answer."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise Down(f"{method} {path}: {e!r}") from e
        if r.status >= 500:
            self.close()
            raise Down(f"{method} {path}: {r.status} {raw[:200]!r}")
        ctype = r.getheader("Content-Type", "")
        if "json" in ctype:
            return r.status, json.loads(raw)
        return r.status, raw

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Ledger:
    """What the writers saw, shared between threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}          # application id -> (tenant, submission id, reference)
        self.new = []            # application ids acknowledged since the last check
        self.violations = []
        self.kinds = {"lost": 0, "reopened": 0, "duplicate": 0, "mail_lost": 0, "mail_twice": 0,
                      "other": 0}
        self.counts = {"started": 0, "answered": 0, "cut": 0, "drafts_gone": 0,
                       "resubmitted_after_cut": 0, "stale": 0}

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def violation(self, text, kind="other"):
        with self.lock:
            self.violations.append(text)
            self.kinds[kind] += 1
        print(f"VIOLATION ({kind}): {text}", flush=True)

    def ack(self, tenant, app_id, sub_id, reference):
        with self.lock:
            earlier = self.acked.get(app_id)
            if earlier is None:
                self.acked[app_id] = (tenant, sub_id, reference)
                self.new.append(app_id)
            elif earlier[1:] != (sub_id, reference):
                self.violations.append(f"application {app_id} acknowledged twice")
                self.kinds["duplicate"] += 1
                print(f"VIOLATION (duplicate): application {app_id} acknowledged as "
                      f"{earlier[2]} ({earlier[1]}) and again as {reference} ({sub_id})",
                      flush=True)


class Gate:
    """Writers pass while the server is up; the driver closes it before a kill."""

    def __init__(self):
        self.up = threading.Event()
        self.stop = threading.Event()
        self.draining = threading.Event()


def writer(n, port, gate, ledger, answer_of):
    try:
        write(n, port, gate, ledger, answer_of)
    except Exception as e:  # a writer that dies silently would hide its application
        ledger.violation(f"writer {n} stopped: {e!r}")


def write(n, port, gate, ledger, answer_of):
    tenant = TENANTS[n % len(TENANTS)]
    base = f"/api/v1/tenants/{tenant}"
    c = Client(port)
    app = None   # {"id", "rev", "at"}; "at" is a step id or "review"
    cut = False  # the last request on `app` got no answer

    def follow(state):
        at = "review" if state["position"] == "review" else state["step"]["id"]
        return {"id": state["id"], "rev": state["revision"], "at": at}

    def submitted(status, body):
        ledger.ack(tenant, app["id"], body["id"], body["reference"])

    while True:
        if not gate.up.is_set():
            if gate.stop.is_set():
                return
            gate.up.wait(1)
            continue
        if gate.draining.is_set() and (app is None or not cut):
            return
        try:
            if app is not None and cut:
                # After a cut: what does the server know of this application now?
                status, body = c.request("GET", f"{base}/applications/{app['id']}")
                cut = False
                if status == 200 and body.get("position") != "submitted":
                    app = follow(body)
                elif status == 200:
                    # Submitted before the kill; its answer never arrived: ask again.
                    status, body = c.request("POST", f"{base}/applications/{app['id']}/submit",
                                             {"revision": app["rev"], "declaration": DECLARED})
                    if status == 200 and "reference" in body:
                        ledger.count("resubmitted_after_cut")
                        submitted(status, body)
                    else:
                        ledger.violation(f"repeat submit of {app['id']} answered {status} {body}")
                    app = None
                elif status == 404:
                    # A draft whose start or saves were not durable yet (the store's window).
                    ledger.count("drafts_gone")
                    app = None
                else:
                    ledger.violation(f"read of {app['id']} after a cut answered {status} {body}")
                    app = None
                continue
            if gate.draining.is_set():
                return
            if app is None:
                status, body = c.request("POST", f"{base}/services/{SERVICE}/applications", {})
                if status != 201:
                    ledger.violation(f"start answered {status} {body}")
                    return
                ledger.count("started")
                app = follow(body)
                continue
            path = f"{base}/applications/{app['id']}"
            if app["at"] == "review":
                status, body = c.request("POST", f"{path}/submit", {"revision": app["rev"], "declaration": DECLARED})
                if status in (200, 201) and "reference" in body:
                    submitted(status, body)
                    app = None
                    continue
            else:
                values = answer_of.get(app["at"])
                if values is None:
                    ledger.violation(f"unknown step {app['at']}")
                    return
                status, body = c.request("PUT", f"{path}/steps/{app['at']}",
                                         {"revision": app["rev"], "values": values})
                if status == 200:
                    ledger.count("answered")
                    app = follow(body)
                    continue
            if status == 409 and body.get("code") in ("LOT-H004", "LOT-H006", "LOT-H011"):
                # The draft is older than what this writer saw (a save lost with the kill),
                # or submitted: read it again.
                ledger.count("stale")
                cut = True
                continue
            ledger.violation(f"{app['at']} of {app['id']} answered {status} {body}")
            app = None
        except Down:
            if app is not None:
                cut = True
                ledger.count("cut")
            # Wait until the driver has the server up again (or says stop).
            while not gate.up.is_set() and not gate.stop.is_set():
                gate.up.wait(1)
            if gate.stop.is_set() and not gate.up.is_set():
                return


class Cluster:
    """A throwaway PostgreSQL cluster on a loopback port (Debian's binaries)."""

    def __init__(self, root, port):
        self.dir = os.path.join(root, "pg")
        self.data = os.path.join(self.dir, "data")
        self.port = port
        os.makedirs(self.dir)
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.run([f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "lotse"])
        self.start()
        self.url = f"postgres://lotse@127.0.0.1:{port}/postgres"

    def run(self, cmd):
        if os.getuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def start(self):
        self.run([f"{PG_BIN}/pg_ctl", "-D", self.data, "-o",
                  f"-k {self.dir} -c listen_addresses=127.0.0.1 -p {self.port}",
                  "-l", os.path.join(self.dir, "log"), "-w", "start"])

    def pids(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        found = [postmaster]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == postmaster:
                found.append(int(entry))
        return found

    def kill_9(self):
        """Every process of the cluster at once, as a power cut would stop them."""
        pids = self.pids()
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while any(alive(p) for p in pids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster's processes {pids} did not die")
            time.sleep(0.02)
        # A postmaster nobody reaped yet still holds its pid for the next start's lock check.
        if os.path.exists(f"/proc/{pids[0]}"):
            for f in (os.path.join(self.data, "postmaster.pid"),
                      os.path.join(self.dir, f".s.PGSQL.{self.port}.lock")):
                if os.path.exists(f):
                    os.remove(f)

    def stop(self):
        try:
            self.run([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"])
        except subprocess.CalledProcessError:
            pass


def alive(pid):
    """Running (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Server:
    def __init__(self, binary, root, port, env):
        self.binary = binary
        self.port = port
        self.env = dict(os.environ, LOTSE_LISTEN=f"127.0.0.1:{port}",
                        LOTSE_DATA_DIR=os.path.join(root, "data"), **env)
        self.log = open(os.path.join(root, "serve.log"), "ab")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env,
                                     stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)

    def wait_ready(self, timeout=120):
        """Polls /readyz (the store answered a read) until 200; the process must stay alive."""
        c = Client(self.port, timeout=5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lotse serve exited with {self.proc.returncode} while starting")
            try:
                status, _ = c.request("GET", "/readyz")
                if status == 200:
                    c.close()
                    return
            except Down:
                pass
            time.sleep(0.05)
        raise RuntimeError("lotse serve did not get ready")

    def kill_9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("lotse serve did not stop within 60 s of SIGTERM")


def check(c, ledger, app_ids, receipts=True):
    """Checks acknowledged applications through the API; violations go to the ledger."""
    c.close()  # a kept-alive connection to the server before the kill is gone
    for app_id in app_ids:
        tenant, sub_id, reference = ledger.acked[app_id]
        base = f"/api/v1/tenants/{tenant}"
        status, body = c.request("GET", f"{base}/submissions/{sub_id}")
        if status != 200 or body.get("reference") != reference:
            ledger.violation(f"acknowledged {reference} ({sub_id}): submission answers {status}",
                             "lost")
            continue
        status, body = c.request("GET", f"{base}/applications/{app_id}")
        if status == 200 and body.get("position") != "submitted":
            ledger.violation(f"acknowledged {reference}: application {app_id} is an editable "
                             f"draft again (position {body.get('position')})", "reopened")
            continue
        links = body.get("links") or {}
        if status != 200 or not str(links.get("submission", "")).endswith(sub_id):
            ledger.violation(f"acknowledged {reference}: application {app_id} answers "
                             f"{status} {body}")
            continue
        status, body = c.request("POST", f"{base}/applications/{app_id}/submit",
                                 {"revision": 0, "declaration": DECLARED})
        if status != 200 or body.get("reference") != reference or body.get("id") != sub_id:
            kind = "duplicate" if status in (200, 201) else "other"
            ledger.violation(f"acknowledged {reference}: a repeated submit answers {status} {body}",
                             kind)
            continue
        if receipts:
            status, body = c.request("GET", f"{base}/submissions/{sub_id}/receipt")
            if status != 200 or not isinstance(body, bytes) or not body.startswith(b"%PDF-"):
                ledger.violation(f"acknowledged {reference}: receipt answers {status}")


class Smtp:
    """aiosmtpd (Debian's python3-aiosmtpd, run by Debian's interpreter) on a loopback port,
    writing every mail into a maildir."""

    def __init__(self, root, port):
        self.port = port
        self.maildir = os.path.join(root, "maildir")
        self.log = open(os.path.join(root, "smtp.log"), "ab")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
             "-c", "aiosmtpd.handlers.Mailbox", self.maildir],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("aiosmtpd did not start (is python3-aiosmtpd installed?)")
                time.sleep(0.1)

    def mails(self):
        """(idempotency key, text) of every mail received so far."""
        if not os.path.isdir(os.path.join(self.maildir, "new")):
            return []
        out = []
        md = mailbox.Maildir(self.maildir, factory=None, create=False)
        for key in md.keys():
            m = email.message_from_bytes(md.get_bytes(key), policy=email.policy.default)
            body = m.get_body(preferencelist=("plain",))
            out.append((str(m.get("lotse-idempotency-key", "")),
                        body.get_content() if body else ""))
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def check_mails(smtp, ledger, timeout=90):
    """Waits until every acknowledged submission has its confirmation (a mail claimed by a
    killed server is sent again once its claim ends: 35 s with a 5 s mail timeout); returns (mails, repeats)."""
    wanted = {sub_id for (_, sub_id, _) in ledger.acked.values()}
    deadline = time.monotonic() + timeout
    while True:
        mails = smtp.mails()
        seen = {}
        for key, text in mails:
            for sub_id in wanted:
                if f"/eingang/{sub_id}" in text:
                    seen.setdefault(sub_id, []).append(key)
        if len(seen) == len(wanted) or time.monotonic() > deadline:
            break
        time.sleep(1)
    repeats = 0
    for sub_id in wanted:
        keys = seen.get(sub_id, [])
        if not keys:
            ledger.violation(f"no confirmation mail for {sub_id}", "mail_lost")
        elif len(set(keys)) > 1:
            ledger.violation(f"{sub_id}: mails of {len(set(keys))} events", "mail_twice")
        repeats += len(keys) - len(set(keys))
    return len(mails), repeats


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            for line in f.readlines()[-lines:]:
                print(f"   | {line.rstrip()[:400]}")
    except OSError:
        pass


def export(binary, root, backend, env):
    """The store's submissions from `lotse export` (the server must be stopped)."""
    out = os.path.join(root, "export.jsonl")
    cmd = [binary, "export", "-o", out]
    if backend == "sled":
        cmd += ["--data", os.path.join(root, "data")]
    else:
        cmd += ["--database-url-env", "LOTSE_CRASH_DB"]
    subprocess.run(cmd, check=True, env=dict(os.environ, **env),
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    subs = []
    with open(out) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("tree") == "submissions" and "value" in rec:
                subs.append(rec["value"]["d"])
    return subs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sled", "postgres"], default="sled")
    ap.add_argument("--bin", default="target/release/lotse")
    ap.add_argument("--rounds", type=int, default=24)
    ap.add_argument("--writers", type=int, default=16)
    ap.add_argument("--min-ms", type=int, default=300, help="shortest time before a kill")
    ap.add_argument("--max-ms", type=int, default=3000, help="longest time before a kill")
    ap.add_argument("--port", type=int, default=18383)
    ap.add_argument("--pg-port", type=int, default=55533)
    ap.add_argument("--smtp-port", type=int, default=18525)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    print(f"crash test: {a.backend}, {a.rounds} rounds, {a.writers} writers, kills after "
          f"{a.min_ms}-{a.max_ms} ms, seed {seed}", flush=True)
    started = time.monotonic()
    root = tempfile.mkdtemp(prefix="lotse-crash-")
    os.chmod(root, 0o755)
    cluster = None
    server = None
    smtp = None
    env = {}
    ledger = Ledger()
    gate = Gate()
    threads = []
    db_kills = 0
    try:
        if a.backend == "postgres":
            cluster = Cluster(root, a.pg_port)
            env = {"LOTSE_STORE_BACKEND": "postgres", "LOTSE_STORE_URL_ENV": "LOTSE_CRASH_DB",
                   "LOTSE_CRASH_DB": cluster.url}
        smtp = Smtp(root, a.smtp_port)
        env.update({"LOTSE_MAIL_SMTP": f"127.0.0.1:{a.smtp_port}", "LOTSE_MAIL_TLS": "none",
                    "LOTSE_MAIL_TIMEOUT_SECONDS": "5",
                    "LOTSE_MAIL_FROM": "Serviceportal <noreply@kreis-heinsberg.example>",
                    "LOTSE_MAIL_PUBLIC_URL": f"http://127.0.0.1:{a.port}"})
        server = Server(a.bin, root, a.port, env)
        server.start()
        server.wait_ready()
        answer_of = answers()
        threads = [threading.Thread(target=writer, args=(n, a.port, gate, ledger, answer_of),
                                    daemon=True) for n in range(a.writers)]
        for t in threads:
            t.start()
        checker = Client(a.port)
        for rnd in range(1, a.rounds + 1):
            gate.up.set()
            time.sleep(rng.uniform(a.min_ms, a.max_ms) / 1000)
            gate.up.clear()
            kill_db = cluster is not None and rnd % 2 == 0
            if kill_db:
                cluster.kill_9()
                db_kills += 1
            server.kill_9()
            if kill_db:
                cluster.start()
            # Every fifth round also kills the server while it is still starting (opening the
            # store, migrating, recovering).
            if rnd % 5 == 0:
                server.start()
                time.sleep(rng.uniform(0, 0.3))
                server.kill_9()
            server.start()
            server.wait_ready()
            with ledger.lock:
                fresh, ledger.new = ledger.new, []
            before = len(ledger.violations)
            check(checker, ledger, fresh)
            print(f"round {rnd:2}: {len(fresh):4} acknowledged, {len(ledger.acked):5} in all, "
                  f"{len(ledger.violations) - before} violations"
                  + ("; database killed too" if kill_db else ""), flush=True)
        # Writers finish what a kill cut short (read the application, submit again), then stop.
        gate.draining.set()
        gate.up.set()
        for t in threads:
            t.join(timeout=120)
            if t.is_alive():
                ledger.violation("a writer did not finish")
        gate.stop.set()
        # The last acknowledgements, then everything acknowledged over all rounds once more
        # (receipts were checked per round).
        with ledger.lock:
            fresh, ledger.new = ledger.new, []
        check(checker, ledger, fresh)
        check(checker, ledger, list(ledger.acked), receipts=False)
        checker.close()
        mails, repeats = check_mails(smtp, ledger)
        server.stop()
        subs = export(a.bin, root, a.backend, env)
        by_ref, by_draft, by_id = {}, {}, {}
        for s in subs:
            by_id[s["id"]] = s
            if s["reference"] in by_ref:
                ledger.violation(f"reference {s['reference']} stored twice", "duplicate")
            by_ref[s["reference"]] = s["id"]
            if s.get("draft_id"):
                if s["draft_id"] in by_draft:
                    ledger.violation(f"application {s['draft_id']} has two submissions",
                                     "duplicate")
                by_draft[s["draft_id"]] = s["id"]
        for app_id, (_, sub_id, reference) in ledger.acked.items():
            s = by_id.get(sub_id)
            if s is None or s["reference"] != reference or s.get("draft_id") != app_id:
                ledger.violation(f"acknowledged {reference} ({sub_id}) not in the export", "lost")
        # Every writer asked again after a cut, so every stored submission reached its client;
        # one that did not was stored while its application answered as an open draft.
        acked_ids = {sub_id for (_, sub_id, _) in ledger.acked.values()}
        for s in subs:
            if s["id"] not in acked_ids:
                ledger.violation(f"{s['reference']} stored, but its application "
                                 f"{s.get('draft_id')} never answered as submitted", "reopened")
        secs = time.monotonic() - started
        with open(os.path.join(root, "serve.log"), errors="replace") as f:
            panics = f.read().count("handler_panicked")
        k, c = ledger.kinds, ledger.counts
        print(f"== {a.backend}: {a.rounds} rounds: {a.rounds} server kills, {db_kills} database "
              f"kills, {a.rounds // 5} more kills while starting; {a.writers} writers; seed {seed}")
        print(f"   acknowledged submissions: {len(ledger.acked)}, stored: {len(subs)}")
        print(f"   lost: {k['lost']}, reopened: {k['reopened']}, duplicates: {k['duplicate']}, "
              f"other violations: {k['other']}")
        print(f"   confirmation mails: {mails} received, missing: {k['mail_lost']}, of two "
              f"events: {k['mail_twice']}, sent again with the same key after a kill: {repeats}")
        print(f"   applications started: {c['started']}, steps answered: {c['answered']}, "
              f"requests cut by a kill: {c['cut']}, submits acknowledged only after a restart: "
              f"{c['resubmitted_after_cut']}, drafts gone with a kill: {c['drafts_gone']}, "
              f"stale revisions after a kill: {c['stale']}, handler panics logged: {panics}")
        print(f"   time: {secs:.1f} s", flush=True)
        if ledger.violations:
            print(f"FAILED: {len(ledger.violations)} violation(s); data kept in {root}")
            a.keep = True
            return 1
        if len(ledger.acked) < a.rounds:
            print("FAILED: the writers hardly submitted anything")
            a.keep = True
            return 1
        print("OK")
        return 0
    except Exception as e:
        # The server or the database did not come back: that is a finding too; keep the data.
        print(f"FAILED: {e}; data kept in {root}")
        tail(os.path.join(root, "serve.log"))
        a.keep = True
        return 1
    finally:
        gate.stop.set()
        gate.up.set()
        if server is not None and server.proc is not None and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        if cluster is not None:
            cluster.stop()
        if smtp is not None:
            smtp.stop()
        if a.keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
