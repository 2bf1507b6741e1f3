#!/usr/bin/env python3
"""Portcullis performance benchmark (driven by bench/run; python3 standard library only).

For each backend (SQLite, then PostgreSQL) it starts the release binary on a free loopback
port against a fresh database, seeds it through the HTTP API, and measures with wrk:

  * GET /healthz                                   (the floor: no auth, no database)
  * GET /api/v1/authorize?permission=read          with X-API-Key
  * the same with the session cookie (+ organization_id=)
  * the same with Authorization: Bearer <EdDSA JWT minted from the key>
  * the key check while 50 concurrent logins run (argon2-bound) vs without
  * the key check with 1,000 and with 1,000,000 keys in api_keys (rows bulk-inserted in SQL),
    plus an uncached variant (well-formed unknown keys, so each request reaches the database)
  * server RSS idle and under load (VmRSS from /proc/PID/status)
  * PostgreSQL only: database writes per verified request (pg_stat_user_tables)
  * resources (contract section 12): /authorize?resource=R for the unrestricted key, for a
    member with 50 grants and for a key restricted to 16 paths, interleaved with the
    organization-wide key check and /healthz, each compared with the organization-wide check
  * instructions (needs valgrind): a second server per backend runs under callgrind; each check
    above is sent BENCH_CALLGRIND_REQUESTS (2000) times over one keep-alive connection after a
    warm-up, and the instructions the server executed are counted (all threads, background
    tasks included) and printed per request and as ratios to /healthz and to the
    organization-wide key check. Unlike req/s, these counts do not move with machine load.

Everything it starts (servers, wrk) is stopped and the PostgreSQL database dropped on exit,
including on Ctrl-C or SIGTERM. Tunables (environment): BENCH_THREADS (2), BENCH_CONNECTIONS
(32), BENCH_DURATION (5 s), BENCH_ROUNDS (3), BENCH_WARMUP (2 s), BENCH_LOGIN_RATE_LIMIT (0), BENCH_FAILED_AUTH_LIMIT (0), BENCH_LOGIN_CONNECTIONS (50), BENCH_BACKENDS
(sqlite,postgres), BENCH_PG_HOST (127.0.0.1), BENCH_PG_PORT (5432), BENCH_PG_USER (postgres),
BENCH_BIG_KEYS (1000000), BENCH_RESOURCE_ROUNDS (BENCH_ROUNDS), PORTCULLIS_BIN (target/release/portcullis).
BENCH_ONLY=phase[,phase...] runs only some phases: credentials, dbtraffic, flood, keys,
resources, instructions (default: all); BENCH_ONLY=resources takes about 2 minutes per backend,
BENCH_ONLY=instructions under a minute; BENCH_CALLGRIND_REQUESTS (2000) and BENCH_CALLGRIND_DIR
(keeps the callgrind dumps there, for callgrind_annotate) tune it.
"""

import glob
import hashlib
import json
import math
import resource
import statistics
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from http.client import HTTPConnection

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.environ.get("PORTCULLIS_BIN") or os.path.join(ROOT, "target", "release", "portcullis")
WRK_SCRIPT = os.path.join(HERE, "wrk.lua")

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION = int(os.environ.get("BENCH_DURATION", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
LOGIN_CONNECTIONS = int(os.environ.get("BENCH_LOGIN_CONNECTIONS", "50"))
BACKENDS = [b.strip() for b in os.environ.get("BENCH_BACKENDS", "sqlite,postgres").split(",") if b.strip()]
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PG_PORT", "5432")
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
SMALL_KEYS = 1_000
BIG_KEYS = int(os.environ.get("BENCH_BIG_KEYS", "1000000"))
RESOURCE_ROUNDS = int(os.environ.get("BENCH_RESOURCE_ROUNDS", str(ROUNDS)))
PHASES = ("credentials", "dbtraffic", "flood", "resources", "keys", "instructions")
WRK_PHASES = PHASES[:-1]
CALLGRIND_REQUESTS = int(os.environ.get("BENCH_CALLGRIND_REQUESTS", "2000"))
CALLGRIND_WARMUP = 200
ONLY = [p.strip() for p in os.environ.get("BENCH_ONLY", "").split(",") if p.strip()] or list(PHASES)
GRANTS = 50                      # grants of the resource-bench member
RESTRICTED_PATHS = 16            # paths of the restricted key (the contract's maximum)
UNKNOWN_KEYS = 20_000            # distinct well-formed unknown keys for the uncached runs
FLUSH_EVERY_S = 2                # crates/server/src/lib.rs KEY_USE_FLUSH_EVERY
PG_STATS_SETTLE_S = 12           # PostgreSQL 15 backends may hold table stats up to 10 s when idle

ROOT_TOKEN = "bench-root-" + secrets.token_hex(16)
EMAIL = "bench@example.com"
MEMBER_EMAIL = "bench-member@example.com"
PASSWORD = "bench-password-" + secrets.token_hex(4)
KEY_PREFIX = "pcl"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# ---------------------------------------------------------------------------------------------
# cleanup: every process we start and every database we create is registered here


class Cleanup:
    def __init__(self):
        self.procs = []
        self.pg_dbs = []
        self.dirs = []
        self.done = False

    def stop_proc(self, proc, grace=15):
        if proc.poll() is not None:
            return
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        except ProcessLookupError:
            pass

    def run(self):
        if self.done:
            return
        self.done = True
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)   # finish cleaning up even on a second Ctrl-C
        for proc in reversed(self.procs):
            try:
                self.stop_proc(proc, grace=10)
            except Exception as e:  # keep cleaning up
                log(f"cleanup: could not stop pid {proc.pid}: {e}")
        for db in self.pg_dbs:
            r = psql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', check=False)
            log(f"cleanup: dropped database {db}" if r.returncode == 0 else
                f"cleanup: could not drop database {db}: {r.stderr.strip()}")
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


CLEANUP = Cleanup()


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# helpers


def psql(db, sql, check=True):
    r = subprocess.run(
        ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", db, "-v", "ON_ERROR_STOP=1",
         "-X", "-q", "-A", "-t", "-c", sql],
        capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr.strip()}")
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler:
    """Samples VmRSS every 100 ms while in a `with` block; .peak_kib afterwards."""

    def __init__(self, pid):
        self.pid, self.peak_kib, self._stop = pid, 0, threading.Event()

    def __enter__(self):
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            v = rss_kib(self.pid)
            if v:
                self.peak_kib = max(self.peak_kib, v)
            self._stop.wait(0.1)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid):
    """utime + stime of a live (or not yet reaped) process, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def pg_backends_cpu_s(db):
    """CPU of the PostgreSQL backends serving `db` (their process title names the database)."""
    total = 0.0
    if not db:
        return total
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read()
        except OSError:
            continue
        if title.startswith(b"postgres:") and f" {db} ".encode() in title:
            total += proc_cpu_s(pid)
    return total


class CpuWindow:
    """How much of the machine's CPU went to processes that are not part of the benchmark
    (not the server, its PostgreSQL backends, wrk or this script) during a `with` block:
    other people's builds and tests on a shared machine skew every number."""

    def __init__(self, pg_db=None):
        self.pg_db = pg_db

    @staticmethod
    def _busy_s():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return (sum(v) - v[3] - v[4]) / CLK_TCK          # all but idle and iowait

    def _ours_s(self):
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        me = resource.getrusage(resource.RUSAGE_SELF)
        live = sum(proc_cpu_s(p.pid) for p in CLEANUP.procs)
        return (children.ru_utime + children.ru_stime + me.ru_utime + me.ru_stime + live
                + pg_backends_cpu_s(self.pg_db))

    def __enter__(self):
        self.t0, self.busy0, self.ours0 = time.monotonic(), self._busy_s(), self._ours_s()
        return self

    def __exit__(self, *exc):
        elapsed = time.monotonic() - self.t0
        other = (self._busy_s() - self.busy0) - (self._ours_s() - self.ours0)
        self.other_pct = max(0.0, 100.0 * other / (elapsed * (os.cpu_count() or 1)))


def http(port, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, resp.headers, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
        return e.code, e.headers, parsed


def expect(what, result, status):
    got, _, body = result
    if got != status:
        raise RuntimeError(f"{what}: expected HTTP {status}, got {got}: {body}")
    return result


def api_key_plaintext():
    """A well-formed key (contract section 2): pcl_ + 43 base62 + 6 base62 of CRC-32."""
    head = KEY_PREFIX + "_" + "".join(secrets.choice(BASE62) for _ in range(43))
    crc, digits = zlib.crc32(head.encode()), ""
    for _ in range(6):
        crc, r = divmod(crc, 62)
        digits = BASE62[r] + digits
    return head + digits


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


def keepalive_gets(port, path, headers, n):
    """n sequential GETs over one keep-alive connection; each must answer 200."""
    conn = HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        for _ in range(n):
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {resp.status}: {body[:300]!r}")
    finally:
        conn.close()


def callgrind_control(pid, *args):
    subprocess.run(["callgrind_control", *args, str(pid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)


def callgrind_instructions(out_prefix, pid):
    """Dump the counters collected since the last zeroing; the instructions (Ir) of that dump."""
    before = set(glob.glob(f"{out_prefix}*"))
    callgrind_control(pid, "--dump")
    deadline = time.time() + 60
    while time.time() < deadline:
        new = sorted(set(glob.glob(f"{out_prefix}*")) - before)
        for path in new:
            with open(path) as f:
                for line in f:
                    if line.startswith("summary:"):
                        return int(line.split()[1]), path
        time.sleep(0.2)
    raise RuntimeError("callgrind wrote no dump within 60 s")


# ---------------------------------------------------------------------------------------------
# wrk


def wrk(label, port, path, headers=None, method="GET", body=None, connections=CONNECTIONS,
        threads=THREADS, duration=DURATION, keys_file=None, timeout_s=None, background=False):
    env = dict(os.environ)
    env["BENCH_METHOD"] = method
    env["BENCH_HEADERS"] = "\n".join(f"{k}: {v}" for k, v in (headers or {}).items())
    env["BENCH_BODY"] = json.dumps(body) if body is not None else ""
    env["BENCH_KEYS_FILE"] = keys_file or ""
    env["BENCH_PATH"] = path
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "-s", WRK_SCRIPT]
    if timeout_s:
        cmd.append(f"--timeout={timeout_s}s")
    cmd.append(f"http://127.0.0.1:{port}{path}")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    CLEANUP.procs.append(proc)
    if background:
        proc.bench_label = label
        return proc
    return wrk_result(proc, label)


def wrk_result(proc, label):
    out, _ = proc.communicate(timeout=DURATION * 4 + 60)
    CLEANUP.procs.remove(proc)
    line = next((l for l in out.splitlines() if l.startswith("BENCH_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk ({label}) failed (exit {proc.returncode}):\n{out}")
    r = {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


def aggregate(runs):
    """Median over rounds of each figure; requests and errors summed."""
    out = {k: statistics.median(r[k] for r in runs)
           for k in ("rps", "p50_us", "p90_us", "p99_us", "max_us", "other_pct", "rss_peak_kib", "cpu_us", "db_cpu_us")
           if k in runs[0]}
    for k in ("requests", "status", "errors"):
        out[k] = sum(r[k] for r in runs)
    out["other_pct_max"] = max(r.get("other_pct", 0.0) for r in runs)
    return out


def ms(us):
    return f"{us / 1000:.2f}"


# ---------------------------------------------------------------------------------------------
# one backend


class Backend:
    def __init__(self, kind, workdir, callgrind=False):
        self.kind = kind
        self.workdir = workdir
        self.callgrind = callgrind
        self.rows = []          # (scenario, result dict, vs_healthz or None, note)
        self.metrics = {}
        self.pg_db = None
        if kind == "sqlite":
            self.sqlite_path = os.path.join(workdir, f"portcullis-bench{'-callgrind' if callgrind else ''}.db")
            self.url = f"sqlite://{self.sqlite_path}?mode=rwc"
        else:
            self.pg_db = f"pcl_bench_{secrets.token_hex(4)}"
            self.url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.pg_db}"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self):
        if self.pg_db:
            psql("postgres", f'CREATE DATABASE "{self.pg_db}"')
            CLEANUP.pg_dbs.append(self.pg_db)
            log(f"created PostgreSQL database {self.pg_db}")
        self.port = free_port()
        env = dict(os.environ)
        env.update({
            "PORTCULLIS_BIND": f"127.0.0.1:{self.port}",
            "PORTCULLIS_DATABASE_URL": self.url,
            "PORTCULLIS_API_TOKEN": ROOT_TOKEN,
            "PORTCULLIS_COOKIE_SECURE": "false",
            "PORTCULLIS_SIGNUP": "open",
            "PORTCULLIS_LOG": os.environ.get("BENCH_SERVER_LOG", "warn"),
            # All wrk connections come from 127.0.0.1, so the per-address login limit (default
            # 60/min) would turn the login flood into 429s and never reach argon2; switch it off
            # (BENCH_LOGIN_RATE_LIMIT=60 measures the limiter instead).
            "PORTCULLIS_LOGIN_RATE_LIMIT": os.environ.get("BENCH_LOGIN_RATE_LIMIT", "0"),
            # Likewise the per-address limit on failed authentications (default 300/min) would
            # answer the unknown-key runs with 429s instead of database lookups.
            "PORTCULLIS_FAILED_AUTH_LIMIT": os.environ.get("BENCH_FAILED_AUTH_LIMIT", "0"),
        })
        command = [BIN, "serve"]
        if self.callgrind:
            # Instrumentation starts off (start-up and seeding run at near full speed) and is
            # switched on for the measurements.
            out_dir = os.environ.get("BENCH_CALLGRIND_DIR") or self.workdir
            os.makedirs(out_dir, exist_ok=True)
            self.callgrind_out = os.path.join(out_dir, f"callgrind-{self.kind}.out")
            command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                       f"--callgrind-out-file={self.callgrind_out}", *command]
        self.log_path = os.path.join(self.workdir, f"server-{self.kind}{'-callgrind' if self.callgrind else ''}.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(command, env=env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        CLEANUP.procs.append(self.proc)
        deadline = time.time() + (300 if self.callgrind else 60)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log:\n"
                                   + open(self.log_path).read()[-4000:])
            try:
                if http(self.port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not answer /healthz in time")
        log(f"{self.kind}: server pid {self.proc.pid} listening on 127.0.0.1:{self.port}")

    def stop(self):
        CLEANUP.stop_proc(self.proc)
        CLEANUP.procs.remove(self.proc)
        self.log_file.close()
        if self.proc.returncode not in (0, None):
            log(f"{self.kind}: server exited with {self.proc.returncode} (log: {self.log_path})")
        if self.pg_db:
            psql("postgres", f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
            CLEANUP.pg_dbs.remove(self.pg_db)
            log(f"dropped PostgreSQL database {self.pg_db}")

    # -- seeding through the API ---------------------------------------------------------------

    def seed(self):
        p = self.port
        root = {"Authorization": f"Bearer {ROOT_TOKEN}"}
        expect("create user", http(p, "POST", "/api/v1/admin/users",
                                   {"email": EMAIL, "name": "Bench", "password": PASSWORD}, root), 201)
        _, hdrs, _ = expect("login", http(p, "POST", "/api/v1/auth/login",
                                          {"email": EMAIL, "password": PASSWORD}), 200)
        cookie = next((c.split(";")[0] for c in hdrs.get_all("Set-Cookie") or []
                       if c.startswith("portcullis_session=")), None)
        if not cookie:
            raise RuntimeError("login set no portcullis_session cookie")
        self.cookie = cookie
        as_session = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{p}"}
        _, _, org = expect("create organization", http(p, "POST", "/api/v1/organizations",
                                                       {"name": "Bench", "slug": "bench"}, as_session), 201)
        self.org = org["id"]
        _, _, key = expect("create API key", http(p, "POST", f"/api/v1/organizations/{self.org}/api-keys",
                                                  {"name": "bench", "scopes": ["read"]}, as_session), 201)
        self.key = key["key"]
        self.key_id = key["id"]
        self.mint_jwt()
        # every credential must pass before we time it
        for label, path, h in self.scenarios():
            if path.startswith("/api/"):
                expect(f"authorize with {label}", http(p, "GET", path, None, h), 200)
        log(f"{self.kind}: seeded user, organization {self.org}, key {self.key[:12]}…, session, JWT")

    def mint_jwt(self):
        _, _, tok = expect("mint JWT", http(self.port, "POST", "/api/v1/auth/token", {},
                                            {"X-API-Key": self.key}), 200)
        self.jwt = tok["access_token"]

    def scenarios(self):
        authz = "/api/v1/authorize?permission=read"
        return [
            ("healthz", "/healthz", {}),
            ("key", authz, {"X-API-Key": self.key}),
            ("session", f"{authz}&organization_id={self.org}", {"Cookie": self.cookie}),
            ("jwt", authz, {"Authorization": f"Bearer {self.jwt}"}),
        ]

    # -- measurements -----------------------------------------------------------------------------

    def measure(self, label, path, headers, warmup=True, quiet=False, duration=DURATION, **kw):
        if warmup and WARMUP > 0:
            wrk(label + " warm-up", self.port, path, headers, duration=WARMUP, **kw)
        server0, db0 = proc_cpu_s(self.proc.pid), pg_backends_cpu_s(self.pg_db)
        with CpuWindow(self.pg_db) as cpu, RssSampler(self.proc.pid) as rss:
            r = wrk(label, self.port, path, headers, duration=duration, **kw)
        server1, db1 = proc_cpu_s(self.proc.pid), pg_backends_cpu_s(self.pg_db)
        r["rss_peak_kib"], r["other_pct"] = rss.peak_kib, cpu.other_pct
        # CPU per request barely depends on how busy the machine is, unlike req/s
        r["cpu_us"] = (server1 - server0) * 1e6 / max(r["requests"], 1)
        r["db_cpu_us"] = (db1 - db0) * 1e6 / max(r["requests"], 1)
        if not quiet:
            log(f"{self.kind}: {label:<36} {r['rps']:>8.0f} req/s  p50 {ms(r['p50_us'])} ms  "
                f"p99 {ms(r['p99_us'])} ms  server CPU {r['cpu_us']:.0f} us/req  non-2xx {r['status']}  "
                f"socket errors {r['errors']}  other processes {r['other_pct']:.0f} % CPU")
        return r

    def add(self, scenario, r, note=""):
        self.rows.append((scenario, r, note))

    def run_all(self):
        self.start()
        time.sleep(1)
        self.metrics["rss_start_kib"] = rss_kib(self.proc.pid)
        self.seed()
        time.sleep(1)
        self.metrics["rss_idle_kib"] = rss_kib(self.proc.pid)
        log(f"{self.kind}: RSS right after start {self.metrics['rss_start_kib'] / 1024:.1f} MiB, "
            f"idle after seeding {self.metrics['rss_idle_kib'] / 1024:.1f} MiB")
        authz = "/api/v1/authorize?permission=read"
        key_h = {"X-API-Key": self.key}

        # 1. the floor and the three credentials, interleaved in rounds so that a change in
        #    background load hits all four alike; each ratio is the median of per-round ratios
        if "credentials" in ONLY:
            self.credentials_phase()

        # 2. PostgreSQL: database writes (and reads) per verified request
        if self.pg_db and "dbtraffic" in ONLY:
            self.measure_db_traffic(authz, key_h)

        # 3. the key check with and without a login flood, alternating
        if "flood" in ONLY:
            self.login_flood(authz, key_h)

        # 4. resources: grants and restricted keys against the organization-wide check
        if "resources" in ONLY:
            self.seed_resources()
            self.resources_phase()

        # 5. 1,000 and 1,000,000 keys in the table
        if "keys" in ONLY:
            self.keys_phase(authz, key_h)

        self.stop()

    def credentials_phase(self):
        self.mint_jwt()                   # 5-minute tokens: fresh for this phase
        per = {label: [] for label, _, _ in self.scenarios()}
        for rnd in range(ROUNDS):
            for label, path, headers in self.scenarios():
                per[label].append(self.measure(f"{label} (round {rnd + 1}/{ROUNDS})", path, headers,
                                               warmup=(rnd == 0)))
        names = {"healthz": "GET /healthz (floor)", "key": "authorize, X-API-Key",
                 "session": "authorize, session cookie", "jwt": "authorize, Bearer JWT (EdDSA)"}
        for label, runs in per.items():
            agg = aggregate(runs)
            if label != "healthz":
                agg["vs_healthz"] = statistics.median(
                    r["rps"] / h["rps"] for r, h in zip(runs, per["healthz"]))
            self.metrics[f"{label}_rps"], self.metrics[f"{label}_p99_us"] = agg["rps"], agg["p99_us"]
            self.metrics[f"{label}_vs_healthz"] = agg.get("vs_healthz", 1.0)
            self.add(names[label], agg, f"median of {ROUNDS}")
        self.metrics["rss_load_kib"] = max(r["rss_peak_kib"] for r in per["key"])

    def keys_phase(self, authz, key_h):
        unknown_file = os.path.join(self.workdir, "unknown-keys.txt")
        with open(unknown_file, "w") as f:
            for _ in range(UNKNOWN_KEYS):
                f.write(api_key_plaintext() + "\n")
        for total in (SMALL_KEYS, BIG_KEYS):
            t0 = time.time()
            n = self.fill_keys(total)
            log(f"{self.kind}: api_keys now holds {n:,} rows (filled in {time.time() - t0:.1f} s)")
            tag = "1k" if total == SMALL_KEYS else "1m"
            r = self.measure(f"key, {n:,} keys", authz, key_h, warmup=True, duration=2 * DURATION)
            self.metrics[f"key_{tag}_rps"], self.metrics[f"key_{tag}_p99_us"] = r["rps"], r["p99_us"]
            self.add(f"authorize, X-API-Key, {n:,} keys in table", r, f"one {2 * DURATION} s run")
            r = self.measure(f"unknown keys (uncached), {n:,} keys", authz, None,
                             warmup=True, keys_file=unknown_file)
            self.metrics[f"miss_{tag}_rps"] = r["rps"]
            self.add(f"unknown well-formed keys, {n:,} in table", r, "401 by design: each one is a DB lookup")

    # -- resources (contract section 12) ---------------------------------------------------------

    def seed_resources(self):
        """Through the API: a second user, a viewer with GRANTS developer grants on distinct
        paths, and their unrestricted key; a key of the owner restricted to RESTRICTED_PATHS
        paths. Every credential is checked (allowed where timed, refused where it must be)."""
        p = self.port
        root = {"Authorization": f"Bearer {ROOT_TOKEN}"}
        owner = {"Cookie": self.cookie, "Origin": f"http://127.0.0.1:{p}"}
        org = f"/api/v1/organizations/{self.org}"
        member_password = "bench-member-" + secrets.token_hex(4)
        _, _, user = expect("create member user", http(p, "POST", "/api/v1/admin/users",
                                                       {"email": MEMBER_EMAIL, "name": "Bench member",
                                                        "password": member_password}, root), 201)
        expect("add member", http(p, "POST", f"{org}/members", {"email": MEMBER_EMAIL, "role": "viewer"},
                                  owner), 201)
        t0 = time.time()
        for i in range(GRANTS):
            expect(f"grant {i}", http(p, "PUT", f"{org}/members/{user['id']}/grants",
                                      {"resource": f"projects/p{i:02d}/environments/prod",
                                       "role": "developer"}, owner), 200)
        _, _, grants = expect("list grants", http(p, "GET", f"{org}/members/{user['id']}/grants", None, owner), 200)
        if len(grants) != GRANTS:
            raise RuntimeError(f"expected {GRANTS} grants, the server lists {len(grants)}")
        _, hdrs, _ = expect("member login", http(p, "POST", "/api/v1/auth/login",
                                                 {"email": MEMBER_EMAIL, "password": member_password}), 200)
        member_cookie = next(c.split(";")[0] for c in hdrs.get_all("Set-Cookie") or []
                             if c.startswith("portcullis_session="))
        as_member = {"Cookie": member_cookie, "Origin": f"http://127.0.0.1:{p}"}
        # An unrestricted key's scopes must lie within its user's organization role (viewer:
        # read); at a granted resource the role in effect is the grant's (developer).
        _, _, mkey = expect("member key", http(p, "POST", f"{org}/api-keys",
                                               {"name": "bench-member", "scopes": ["read"]},
                                               as_member), 201)
        self.member_key = mkey["key"]
        paths = [f"projects/r{i:02d}" for i in range(RESTRICTED_PATHS)]
        _, _, rkey = expect("restricted key", http(p, "POST", f"{org}/api-keys",
                                                   {"name": "bench-restricted", "scopes": ["read"],
                                                    "resources": paths}, owner), 201)
        if sorted(rkey.get("resources") or []) != sorted(paths):
            raise RuntimeError(f"restricted key came back with resources {rkey.get('resources')}")
        self.restricted_key = rkey["key"]
        # The resources checked sit under the *last* grant and the *last* path: a linear scan
        # pays its full length.
        self.res_grant = f"projects/p{GRANTS - 1:02d}/environments/prod/services/api"
        self.res_restricted = f"projects/r{RESTRICTED_PATHS - 1:02d}/environments/prod"
        a = "/api/v1/authorize"
        checks = [
            ("owner key at a resource", f"{a}?permission=read&resource={self.res_grant}",
             {"X-API-Key": self.key}, 200, "owner"),
            ("member key at a granted resource", f"{a}?permission=read&resource={self.res_grant}",
             {"X-API-Key": self.member_key}, 200, "developer"),
            ("member key at an ungranted resource", f"{a}?permission=read&resource=projects/q00",
             {"X-API-Key": self.member_key}, 200, "viewer"),
            ("member key at projects/p4 (a prefix of p49, not whole segments)",
             f"{a}?permission=read&resource=projects/p4", {"X-API-Key": self.member_key}, 200, "viewer"),
            ("restricted key inside its paths", f"{a}?permission=read&resource={self.res_restricted}",
             {"X-API-Key": self.restricted_key}, 200, "owner"),
            ("restricted key outside its paths", f"{a}?permission=read&resource=projects/r99",
             {"X-API-Key": self.restricted_key}, 403, None),
            ("restricted key organization-wide", f"{a}?permission=read",
             {"X-API-Key": self.restricted_key}, 403, None),
        ]
        for what, path, h, status, role in checks:
            _, _, body = expect(what, http(p, "GET", path, None, h), status)
            if role and body.get("role") != role:
                raise RuntimeError(f"{what}: expected role {role!r}, got {body}")
        log(f"{self.kind}: seeded a viewer with {GRANTS} developer grants ({time.time() - t0:.1f} s) and "
            f"a key restricted to {RESTRICTED_PATHS} paths; {len(checks)} decisions checked")

    def resource_scenarios(self):
        a = "/api/v1/authorize"
        return [
            ("healthz", "/healthz", {}),
            ("org", f"{a}?permission=read", {"X-API-Key": self.key}),
            ("res_key", f"{a}?permission=read&resource={self.res_grant}", {"X-API-Key": self.key}),
            ("res_grants", f"{a}?permission=read&resource={self.res_grant}", {"X-API-Key": self.member_key}),
            ("res_restricted", f"{a}?permission=read&resource={self.res_restricted}",
             {"X-API-Key": self.restricted_key}),
        ]

    def resources_phase(self):
        per = {label: [] for label, _, _ in self.resource_scenarios()}
        for rnd in range(RESOURCE_ROUNDS):
            for label, path, headers in self.resource_scenarios():
                per[label].append(self.measure(f"{label} (round {rnd + 1}/{RESOURCE_ROUNDS})", path, headers,
                                               warmup=(rnd == 0)))
        names = {"healthz": "GET /healthz (floor)",
                 "org": "authorize, key, organization-wide",
                 "res_key": "authorize, same key at a resource",
                 "res_grants": f"authorize, member with {GRANTS} grants, resource",
                 "res_restricted": f"authorize, key restricted to {RESTRICTED_PATHS} paths"}
        for label, runs in per.items():
            agg = aggregate(runs)
            note = f"median of {RESOURCE_ROUNDS}"
            if label != "healthz":
                agg["vs_healthz"] = statistics.median(
                    r["rps"] / h["rps"] for r, h in zip(runs, per["healthz"]))
            if label.startswith("res_"):
                v = statistics.median(r["rps"] / o["rps"] for r, o in zip(runs, per["org"]))
                self.metrics[f"{label}_vs_org"] = v
                self.metrics[f"{label}_vs_org_rounds"] = [r["rps"] / o["rps"] for r, o in zip(runs, per["org"])]
                self.metrics[f"{label}_cpu_vs_org"] = statistics.median(
                    r["cpu_us"] / o["cpu_us"] for r, o in zip(runs, per["org"]))
                note += f"; {v:.3f}x the organization-wide req/s"
            self.metrics[f"{label}_rps"], self.metrics[f"{label}_p99_us"] = agg["rps"], agg["p99_us"]
            self.add(names[label], agg, note)

    # -- instructions per request (callgrind) -----------------------------------------------------

    def run_instructions(self):
        self.start()
        self.seed()
        self.seed_resources()
        callgrind_control(self.proc.pid, "--instr=on")
        self.mint_jwt()
        names = {"healthz": "GET /healthz (floor)", "key": "authorize, X-API-Key",
                 "session": "authorize, session cookie", "jwt": "authorize, Bearer JWT (EdDSA)",
                 "res_key": "authorize, same key at a resource",
                 "res_grants": f"authorize, member with {GRANTS} grants, resource",
                 "res_restricted": f"authorize, key restricted to {RESTRICTED_PATHS} paths"}
        scenarios = self.scenarios() + [s for s in self.resource_scenarios() if s[0].startswith("res_")]
        counts = {}
        for label, path, headers in scenarios:
            keepalive_gets(self.port, path, headers, CALLGRIND_WARMUP)
            callgrind_control(self.proc.pid, "--zero")
            keepalive_gets(self.port, path, headers, CALLGRIND_REQUESTS)
            total, dump = callgrind_instructions(self.callgrind_out, self.proc.pid)
            counts[label] = total / CALLGRIND_REQUESTS
            log(f"{self.kind}: {names[label]:<44} {counts[label]:>9,.0f} instructions/request "
                f"(callgrind_annotate {dump})")
        self.metrics["instructions"] = [(names[label], label, n) for label, n in counts.items()]
        self.metrics["ir"] = counts
        self.stop()

    def measure_db_traffic(self, authz, key_h):
        def counters():
            out = psql(self.pg_db, "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del, "
                                   "coalesce(seq_scan, 0) + coalesce(idx_scan, 0) "
                                   "FROM pg_stat_user_tables ORDER BY relname").stdout
            writes, reads = {}, {}
            for line in out.strip().splitlines():
                name, w, rd = line.split("|")
                writes[name], reads[name] = int(w), int(rd)
            return writes, reads

        # PostgreSQL 15 backends may keep table statistics for up to 10 s before publishing
        # them: settle before both readings so each run's traffic is counted in its own window.
        log(f"{self.kind}: waiting {PG_STATS_SETTLE_S} s for PostgreSQL's table statistics to settle")
        time.sleep(PG_STATS_SETTLE_S)
        w0, r0 = counters()
        r = self.measure(f"key, counting database traffic", authz, key_h, warmup=False,
                         duration=2 * DURATION)
        log(f"{self.kind}: waiting {PG_STATS_SETTLE_S} s for the last_used_at flush and PostgreSQL's table statistics")
        time.sleep(PG_STATS_SETTLE_S)
        w1, r1 = counters()
        dw = {t: w1.get(t, 0) - w0.get(t, 0) for t in w1}
        dr = {t: r1.get(t, 0) - r0.get(t, 0) for t in r1}
        total, reads = sum(dw.values()), sum(dr.values())
        flushes = math.ceil((r["duration_us"] / 1e6) / FLUSH_EVERY_S) + 1
        self.metrics.update(writes_total=total, writes_requests=r["requests"],
                            writes_per_request=total / r["requests"],
                            writes_by_table={t: d for t, d in dw.items() if d},
                            reads_total=reads, reads_by_table={t: d for t, d in dr.items() if d},
                            writes_flush_bound=flushes)
        log(f"{self.kind}: {total} row writes and {reads} table scans for {r['requests']:,} verified requests "
            f"(writes by table: {self.metrics['writes_by_table']}; scans: {self.metrics['reads_by_table']})")

    def login_flood(self, authz, key_h):
        idle, flooded, logins, rss_peak = [], [], [], 0
        flood_s = WARMUP + DURATION + 1
        for rnd in range(ROUNDS):
            idle.append(self.measure(f"key, no logins (round {rnd + 1}/{ROUNDS})", authz, key_h,
                                     warmup=False))
            with RssSampler(self.proc.pid) as s:
                flood = wrk("login flood", self.port, "/api/v1/auth/login", {"Content-Type": "application/json"},
                            method="POST", body={"email": EMAIL, "password": PASSWORD},
                            connections=LOGIN_CONNECTIONS, threads=1, duration=flood_s,
                            timeout_s=30, background=True)
                time.sleep(WARMUP)   # let the argon2 queue fill
                flooded.append(self.measure(f"key, {LOGIN_CONNECTIONS} logins running (round {rnd + 1}/{ROUNDS})",
                                            authz, key_h, warmup=False))
                lr = wrk_result(flood, "login flood")
            rss_peak = max(rss_peak, s.peak_kib)
            logins.append(lr)
            log(f"{self.kind}: logins during that run: {lr['rps']:.1f}/s, p50 {ms(lr['p50_us'])} ms, "
                f"p99 {ms(lr['p99_us'])} ms, non-2xx {lr['status']}, timeouts {lr['timeout']}")
            time.sleep(2)            # let the argon2 queue drain before the next idle run
        a_idle, a_flood, a_login = aggregate(idle), aggregate(flooded), aggregate(logins)
        ratio = statistics.median(f["p99_us"] / i["p99_us"] for f, i in zip(flooded, idle))
        self.metrics.update(flood_p99_us=a_flood["p99_us"], idle_p99_us=a_idle["p99_us"],
                            flood_ratio=ratio, rss_flood_kib=rss_peak)
        self.add("authorize, X-API-Key, alternating with ...", a_idle, f"median of {ROUNDS}")
        self.add(f"... the same with {LOGIN_CONNECTIONS} logins running", a_flood,
                 f"p99 {ratio:.2f}x the run before it (median)")
        self.add(f"POST /auth/login, {LOGIN_CONNECTIONS} connections", a_login, "argon2id, during the row above")

    # -- bulk key rows ----------------------------------------------------------------------------

    def fill_keys(self, total):
        if self.kind == "sqlite":
            return self.fill_keys_sqlite(total)
        return self.fill_keys_postgres(total)

    def fill_keys_sqlite(self, total):
        db = sqlite3.connect(self.sqlite_path, timeout=60)
        try:
            db.execute("PRAGMA busy_timeout = 60000")
            proto = db.execute(
                "SELECT id, organization_id, user_id, created_at FROM api_keys WHERE key_prefix = ?",
                (self.key[:12],)).fetchone()
            blob_ids = isinstance(proto[0], bytes)   # sea-orm/sqlx store uuids as 16-byte BLOBs
            have = db.execute("SELECT count(*) FROM api_keys").fetchone()[0]
            batch = 50_000
            while have < total:
                n = min(batch, total - have)
                rows = []
                for i in range(have, have + n):
                    u = uuid.uuid4()
                    rows.append((u.bytes if blob_ids else str(u), proto[1], proto[2], f"bench-{i}",
                                 sha256_hex(f"bench-key-{i}-{u}"), f"pcl_bench{i % 1000:03d}",
                                 "read", proto[3]))
                with db:
                    db.executemany(
                        "INSERT INTO api_keys (id, organization_id, user_id, name, key_digest, key_prefix,"
                        " scopes, created_at, expires_at, last_used_at) VALUES (?,?,?,?,?,?,?,?,NULL,NULL)",
                        rows)
                have += n
            db.execute("ANALYZE api_keys")
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            return db.execute("SELECT count(*) FROM api_keys").fetchone()[0]
        finally:
            db.close()

    def fill_keys_postgres(self, total):
        have = int(psql(self.pg_db, "SELECT count(*) FROM api_keys").stdout.strip())
        if have < total:
            psql(self.pg_db, f"""
                INSERT INTO api_keys (id, organization_id, user_id, name, key_digest, key_prefix,
                                      scopes, created_at, expires_at, last_used_at)
                SELECT gen_random_uuid(), k.organization_id, k.user_id, 'bench-' || g,
                       encode(sha256(('bench-key-' || g || '-' || random())::bytea), 'hex'),
                       'pcl_bench' || lpad((g % 1000)::text, 3, '0'), 'read', k.created_at, NULL, NULL
                FROM (SELECT * FROM api_keys WHERE id = '{self.key_id}') k,
                     generate_series({have + 1}, {total}) g;
                ANALYZE api_keys;""")
        return int(psql(self.pg_db, "SELECT count(*) FROM api_keys").stdout.strip())


# ---------------------------------------------------------------------------------------------
# report


def verdict(ok):
    return "MET" if ok else "MISSED"


def report(results):
    print()
    print(f"Portcullis benchmark: wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s per run ({WARMUP} s warm-up first), "
          f"{ROUNDS} interleaved rounds where marked ({RESOURCE_ROUNDS} for resources); phases: {','.join(ONLY)}; loopback; {os.cpu_count()} CPUs shared by server, "
          f"database and wrk")
    print(f"'CPU us/req': server CPU time per request (PostgreSQL: server+database backends). 'other CPU': share "
          f"of the machine used meanwhile by processes outside the benchmark (load average now: "
          f"{os.getloadavg()[0]:.2f})")
    print()
    hdr = (f"{'backend':<9} {'scenario':<44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>8} {'vs healthz':>10} "
           f"{'CPU us/req':>10} {'non-2xx':>8} {'other CPU':>9}  note")
    if any(b.rows for b in results):
        print(hdr)
        print("-" * len(hdr))
    for b in results:
        for scenario, r, note in b.rows:
            vs = r.get("vs_healthz")
            if vs is None and scenario.startswith("authorize") and "healthz_rps" in b.metrics:
                vs = r["rps"] / b.metrics["healthz_rps"]
            other = f"{r['other_pct']:.0f} %" if "other_pct" in r else ""
            cpu = ""
            if "cpu_us" in r:
                cpu = f"{r['cpu_us']:.0f}" + (f"+{r['db_cpu_us']:.0f}" if b.pg_db else "")
            print(f"{b.kind:<9} {scenario:<44} {r['rps']:>8.0f} {ms(r['p50_us']):>7} {ms(r['p99_us']):>8} "
                  f"{(f'{vs:.2f}x' if vs is not None else ''):>10} {cpu:>10} {r['status']:>8} {other:>9}  "
                  f"{note}".rstrip())
    print()
    for b in results:
        ir = b.metrics.get("ir")
        if not ir:
            continue
        print(f"{b.kind:<9} {'instructions per request (callgrind, server, all threads)':<58} "
              f"{'instr/req':>10} {'vs healthz':>10} {'vs org-wide key':>15}")
        for name, label, n in b.metrics["instructions"]:
            vs_org = f"{n / ir['key']:.3f}x" if label.startswith("res_") else ""
            print(f"{b.kind:<9} {name:<58} {n:>10,.0f} {n / ir['healthz']:>9.2f}x {vs_org:>15}")
        print()
    for b in results:
        m = b.metrics
        if "rss_idle_kib" not in m:
            continue
        print(f"{b.kind:<9} RSS: {m['rss_start_kib'] / 1024:.1f} MiB right after start, "
              f"{m['rss_idle_kib'] / 1024:.1f} MiB idle after seeding (1 user created, 1 login)"
              + (f", {m['rss_load_kib'] / 1024:.1f} MiB peak under key load" if "rss_load_kib" in m else "")
              + (f", {m['rss_flood_kib'] / 1024:.1f} MiB peak under the login flood" if "rss_flood_kib" in m else ""))
    for b in results:
        m = b.metrics
        if "writes_total" in m:
            print(f"{b.kind:<9} database traffic during a {2 * DURATION} s key run: {m['writes_total']} row writes "
                  f"for {m['writes_requests']:,} verified requests = {m['writes_per_request']:.6f} per request "
                  f"(by table: {m['writes_by_table'] or 'none'}); {m['reads_total']} table scans "
                  f"(by table: {m['reads_by_table'] or 'none'}) = {m['reads_total'] / m['writes_requests']:.6f} "
                  f"per request. last_used_at is flushed as one UPDATE per used key every {FLUSH_EVERY_S} s "
                  f"(<= {m['writes_flush_bound']} flushes in this run); reads are cache refills (30 s TTL).")
    print()

    ratios, targets = [], []
    for b in results:
        m, k = b.metrics, b.kind
        if "key_vs_healthz" in m:
            for cred in ("key", "session", "jwt"):
                v = m[f"{cred}_vs_healthz"]
                ratios.append((f"{k}_{cred}_vs_healthz", v))
                targets.append((f"{k}: {cred}-authorized req/s >= 0.8x /healthz", f"{v:.2f}x", v >= 0.8))
        if "key_1m_rps" in m:
            v = m["key_1m_rps"] / m["key_1k_rps"]
            ratios.append((f"{k}_1m_vs_1k_keys", v))
            targets.append((f"{k}: key check, 1M keys within 10 % of 1k keys", f"{v:.2f}x req/s "
                            f"(p99 {ms(m['key_1m_p99_us'])} vs {ms(m['key_1k_p99_us'])} ms)", v >= 0.9))
            ratios.append((f"{k}_1m_vs_1k_keys_uncached", m["miss_1m_rps"] / m["miss_1k_rps"]))
        if "flood_ratio" in m:
            v = m["flood_ratio"]
            ratios.append((f"{k}_key_p99_login_flood_vs_idle", v))
            targets.append((f"{k}: key p99 under login flood <= 2x without",
                            f"{v:.2f}x ({ms(m['flood_p99_us'])} vs {ms(m['idle_p99_us'])} ms)", v <= 2.0))
        if "res_key_vs_org" in m:
            for label, what in (("res_key", "same key at a resource"),
                                ("res_grants", f"{GRANTS}-grant member at a resource"),
                                ("res_restricted", f"{RESTRICTED_PATHS}-path key at a resource")):
                v = m[f"{label}_vs_org"]
                ratios.append((f"{k}_{label}_vs_org", v))
                ratios.append((f"{k}_{label}_cpu_per_req_vs_org", m[f"{label}_cpu_vs_org"]))
                rounds = ", ".join(f"{x:.3f}" for x in m[f"{label}_vs_org_rounds"])
                targets.append((f"{k}: {what} within 5 % of org-wide",
                                f"{v:.3f}x req/s (rounds: {rounds}); p99 {ms(m[f'{label}_p99_us'])} vs "
                                f"{ms(m['org_p99_us'])} ms; CPU/req {m[f'{label}_cpu_vs_org']:.2f}x",
                                v >= 0.95))
        if "writes_total" in m:
            ratios.append((f"{k}_db_writes_per_verified_request", m["writes_per_request"]))
            ok = m["writes_total"] <= m["writes_flush_bound"]
            targets.append((f"{k}: zero database writes per verified request",
                            f"{m['writes_per_request']:.6f} per request: {m['writes_total']} batched "
                            f"last_used_at rows, none on the request path" if ok
                            else f"{m['writes_per_request']:.6f} per request ({m['writes_by_table']})", ok))
        if "ir" in m:
            ir = m["ir"]
            for cred in ("key", "session", "jwt"):
                v = ir[cred] / ir["healthz"]
                ratios.append((f"{k}_{cred}_instructions_vs_healthz", v))
                targets.append((f"{k}: {cred} check instructions <= 1.3x /healthz",
                                f"{v:.2f}x ({ir[cred]:,.0f} vs {ir['healthz']:,.0f})", v <= 1.3))
            for label, what in (("res_key", "same key at a resource"),
                                ("res_grants", f"{GRANTS}-grant member at a resource"),
                                ("res_restricted", f"{RESTRICTED_PATHS}-path key at a resource")):
                v = ir[label] / ir["key"]
                ratios.append((f"{k}_{label}_instructions_vs_org", v))
                targets.append((f"{k}: {what}, instructions within 5 % of org-wide",
                                f"{v:.3f}x ({ir[label]:,.0f} vs {ir['key']:,.0f})", v <= 1.05))
        if "rss_idle_kib" not in m:
            continue
        mib = m["rss_idle_kib"] / 1024
        targets.append((f"{k}: idle RSS <= 30 MiB", f"{mib:.1f} MiB after seeding "
                        f"({m['rss_start_kib'] / 1024:.1f} MiB right after start)", mib <= 30))
    print("Targets")
    for name, value, ok in targets:
        print(f"  {verdict(ok):<7} {name:<50} {value}")
    print()
    for name, v in ratios:
        print(f"ratio {name} {v:.6f}" if v < 0.01 else f"ratio {name} {v:.2f}")


def main():
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no server binary at {BIN}: run bench/run (it builds it)")
    workdir = tempfile.mkdtemp(prefix="portcullis-bench-")
    CLEANUP.dirs.append(workdir)
    started = time.time()
    results = []
    try:
        for kind in BACKENDS:
            if kind not in ("sqlite", "postgres"):
                sys.exit(f"unknown backend {kind!r} in BENCH_BACKENDS")
            b = Backend(kind, workdir)
            log(f"=== {kind} ===")
            if any(phase in ONLY for phase in WRK_PHASES):
                b.run_all()
            if "instructions" in ONLY:
                log(f"=== {kind}, under callgrind ===")
                counted = Backend(kind, workdir, callgrind=True)
                counted.run_instructions()
                b.metrics.update(counted.metrics)
            results.append(b)
        log(f"measurements took {time.time() - started:.0f} s")
        report(results)
    except SystemExit:
        raise
    except Exception as e:
        log(f"FAILED: {e}")
        for kind in BACKENDS:
            p = os.path.join(workdir, f"server-{kind}.log")
            if os.path.exists(p):
                log(f"last lines of the {kind} server log:\n" + open(p).read()[-3000:])
        raise SystemExit(1)
    finally:
        CLEANUP.run()


if __name__ == "__main__":
    main()
