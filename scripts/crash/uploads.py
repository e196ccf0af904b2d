#!/usr/bin/env python3
"""Crash test of uploads: `kill -9` of `lotse serve` while citizens upload files.

Writers (threads) start Bewohnerparkausweis applications through the JSON API and upload files
of 0.5 to 3 MB (a PDF's first and last bytes around random ones, each file different) to the
field `nachweis_wohnung`, one after another. An upload answered 200 is acknowledged: the
application id and the file's SHA-256 are recorded. After a random time the server is killed
with SIGKILL (on PostgreSQL every second round the database cluster too), restarted, and every
acknowledgement of the round is checked: the application still lists the file, and the stored
bytes have the SHA-256 (read from the sled store's file or from PostgreSQL's chunks). After the
last round the server is stopped, the housekeeping runs once with no grace period
(`lotse housekeeping --attachments-grace-seconds 0`), and then: every file an application
lists is still stored with its hash (nothing referenced was swept), and every stored file is
listed by some application (no orphan of an upload cut by a kill is left). Exits 1 on any
violation.

Standard library only; reuses the server and cluster handling of crash.py.
Usage: scripts/crash/uploads.py --bin target/debug/lotse --backend sled --rounds 10
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash import PG_BIN, Client, Cluster, Down, Server, tail  # noqa: E402

TENANT = "heinsberg"
SERVICE = "bewohnerparkausweis"
API = f"/api/v1/tenants/{TENANT}"
FIELD = "nachweis_wohnung"


def a_file(rng):
    size = rng.randint(512 * 1024, 3 * 1024 * 1024)
    return b"%PDF-1.7\n" + os.urandom(size) + b"\ntrailer\n%%EOF\n"


def upload(port, app_id, rev, data, name):
    """POST the file as the raw body: (status, state) or raises Down."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", f"{API}/applications/{app_id}/steps/antragsteller/files/{FIELD}"
                     f"?revision={rev}&name={name}", body=data,
                     headers={"Content-Type": "application/octet-stream"})
        r = conn.getresponse()
        raw = r.read()
    except (OSError, http.client.HTTPException) as e:
        raise Down(str(e))
    finally:
        conn.close()
    try:
        return r.status, json.loads(raw)
    except ValueError:
        return r.status, {}


def listed(state):
    """The SHA-256 of every file the application lists for the field."""
    pending = (state.get("pending") or {}).get("values") or {}
    files = pending.get(FIELD) or state.get("answers", {}).get(FIELD) or []
    return {f["sha256"] for f in files if isinstance(f, dict) and "sha256" in f}


class Run:
    def __init__(self):
        self.lock = threading.Lock()
        self.acks = []          # (round, app id, sha256) acknowledged this round
        self.apps = set()       # every application started
        self.violations = []
        self.uploads = 0

    def violation(self, text):
        with self.lock:
            self.violations.append(text)
        print(f"VIOLATION {text}", flush=True)


def writer(port, stop, run, rng, rnd_of):
    while not stop.is_set():
        try:
            c = Client(port, timeout=30)
            status, v = c.request("POST", f"{API}/services/{SERVICE}/applications", {})
            c.close()
            if status != 201:
                time.sleep(0.05)
                continue
            app_id, rev = v["id"], v["revision"]
            with run.lock:
                run.apps.add(app_id)
            for i in range(rng.randint(1, 3)):
                if stop.is_set():
                    break
                data = a_file(rng)
                sha = hashlib.sha256(data).hexdigest()
                status, v = upload(port, app_id, rev, data, f"datei{i}.pdf")
                if status == 200:
                    rev = v["revision"]
                    with run.lock:
                        run.acks.append((rnd_of(), app_id, sha))
                        run.uploads += 1
                    if sha not in listed(v):
                        run.violation(f"{app_id}: the answer to the upload of {sha} does not list it")
                else:
                    break
        except Down:
            time.sleep(0.05)
        except (KeyError, ValueError):
            time.sleep(0.05)


class Blobs:
    """The stored files, read from the store behind the server's back."""

    def __init__(self, backend, root, cluster):
        self.backend = backend
        self.dir = os.path.join(root, "data", "attachments")
        self.cluster = cluster

    def psql(self, sql):
        cmd = [f"{PG_BIN}/psql", "-h", "127.0.0.1", "-p", str(self.cluster.port), "-U", "lotse",
               "-d", "postgres", "-At", "-c", sql]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()

    def hash_of(self, sha):
        """The SHA-256 of the stored bytes named `sha`, or None if there are none."""
        if self.backend == "sled":
            path = os.path.join(self.dir, sha[:2], sha)
            if not os.path.exists(path):
                return None
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()
        rows = self.psql("SELECT encode(sha256(string_agg(bytes, ''::bytea ORDER BY n)), 'hex') "
                         f"FROM attachment_chunks WHERE hash = '\\x{sha}'::bytea")
        return rows[0] if rows else None

    def all(self):
        if self.backend == "sled":
            found = set()
            if os.path.isdir(self.dir):
                for sub in os.listdir(self.dir):
                    p = os.path.join(self.dir, sub)
                    if os.path.isdir(p):
                        found.update(n for n in os.listdir(p) if len(n) == 64)
            return found
        return set(self.psql("SELECT encode(hash, 'hex') FROM attachments"))


def check_round(port, run, blobs, rnd):
    c = Client(port, timeout=30)
    for r, app_id, sha in [a for a in run.acks if a[0] == rnd]:
        status, v = c.request("GET", f"{API}/applications/{app_id}")
        if status != 200 or sha not in listed(v):
            run.violation(f"round {rnd}: {app_id} no longer lists the acknowledged file {sha}")
        got = blobs.hash_of(sha)
        if got != sha:
            run.violation(f"round {rnd}: the acknowledged file {sha} is stored as {got}")
    c.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sled", "postgres"], default="sled")
    ap.add_argument("--bin", default="target/release/lotse")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--writers", type=int, default=6)
    ap.add_argument("--port", type=int, default=18403)
    ap.add_argument("--pg-port", type=int, default=55553)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    print(f"uploads crash test: {a.backend}, {a.rounds} rounds, {a.writers} writers, seed {seed}",
          flush=True)
    started = time.monotonic()
    root = tempfile.mkdtemp(prefix="lotse-upcrash-")
    os.chmod(root, 0o755)
    server = None
    cluster = None
    run = Run()
    db_kills = 0
    env = {}
    try:
        if a.backend == "postgres":
            cluster = Cluster(root, a.pg_port)
            env.update({"LOTSE_STORE_BACKEND": "postgres", "LOTSE_STORE_URL_ENV": "LOTSE_CRASH_DB",
                        "LOTSE_CRASH_DB": cluster.url})
        blobs = Blobs(a.backend, root, cluster)
        server = Server(a.bin, root, a.port, env)
        server.start()
        server.wait_ready()
        current = [1]
        for rnd in range(1, a.rounds + 1):
            current[0] = rnd
            stop = threading.Event()
            threads = [threading.Thread(target=writer, daemon=True,
                                        args=(a.port, stop, run, random.Random(rng.random()),
                                              lambda: current[0]))
                       for _ in range(a.writers)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.8, 2.5))
            server.kill_9()
            if cluster is not None and rnd % 2 == 0:
                cluster.kill_9()
                db_kills += 1
            stop.set()
            for t in threads:
                t.join(timeout=90)
            if cluster is not None and rnd % 2 == 0:
                cluster.start()
            server.start()
            server.wait_ready()
            check_round(a.port, run, blobs, rnd)
            print(f"round {rnd}: {sum(1 for x in run.acks if x[0] == rnd)} uploads acknowledged",
                  flush=True)
        # Every application's files, as the API lists them.
        c = Client(a.port, timeout=30)
        referenced = set()
        for app_id in sorted(run.apps):
            status, v = c.request("GET", f"{API}/applications/{app_id}")
            if status == 200:
                referenced |= listed(v)
        c.close()
        server.stop()
        before = blobs.all()
        out = subprocess.run([a.bin, "housekeeping", "--attachments-grace-seconds", "0"],
                             env=server.env, capture_output=True, text=True)
        if out.returncode != 0:
            run.violation(f"lotse housekeeping failed: {out.stderr.strip()[-400:]}")
        after = blobs.all()
        for sha in sorted(referenced):
            if blobs.hash_of(sha) != sha:
                run.violation(f"a file an application lists is not stored intact after the housekeeping: {sha}")
        for sha in sorted(after - referenced):
            run.violation(f"an orphaned file is left after the housekeeping: {sha}")
        print(f"stored before the housekeeping: {len(before)}, swept: {len(before - after)}, "
              f"left: {len(after)}, listed by applications: {len(referenced)}", flush=True)
    except Exception as e:  # noqa: BLE001
        run.violation(f"the test itself failed: {e!r}")
        print(tail(os.path.join(root, "serve.log")), flush=True)
    finally:
        if server is not None and server.proc is not None and server.proc.poll() is None:
            server.kill_9()
        if cluster is not None:
            cluster.stop()
    secs = time.monotonic() - started
    print(f"uploads crash test ({a.backend}): {a.rounds} rounds, {run.uploads} uploads "
          f"acknowledged, {db_kills} database kills, {len(run.violations)} violations, "
          f"{secs:.0f} s", flush=True)
    if run.violations:
        print(tail(os.path.join(root, "serve.log"), 30), flush=True)
        sys.exit(1)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
