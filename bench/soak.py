#!/usr/bin/env python3
"""Portcullis soak test (driven by bench/soak; python3 standard library only).

Starts the release binary on a free loopback port against a fresh database (SQLite, or
PostgreSQL with SOAK_BACKEND=postgres), seeds it through the HTTP API (a user, a login cookie,
an organization, an API key, and a second user to add and remove as a member), then runs mixed
load from threads over keep-alive connections (http.client) for SOAK_DURATION seconds:

  * key       GET /api/v1/authorize?permission=read with X-API-Key, closed loop, as fast as
              SOAK_KEY_THREADS threads go (the highest rate)
  * session   the same with the session cookie and organization_id=, SOAK_SESSION_THREADS
              threads, closed loop
  * login     POST /api/v1/auth/login at SOAK_LOGIN_RATE per second (argon2id: expensive);
              each new session is ended again with POST /auth/logout (counted as a write)
  * write     SOAK_WRITE_RATE write cycles per second, each of which cleans up after itself
              so the database does not grow: create an organization, create an API key in
              it, check the new key (200), revoke it, check it again (401 expected), add the
              second user as a member, remove them, delete the organization (its audit events
              go with it); plus the logouts above. Every request of a cycle counts as a write.

Every request's latency and status is recorded per minute and per kind. An error is any 5xx,
connection error or timeout (SOAK_TIMEOUT s), or any status other than the expected one (e.g.
a 401 on a valid key); the first SOAK_SHOW_ERRORS are printed with their bodies. The server's
RSS (VmRSS from /proc/PID/status) is taken after seeding and SOAK_WARMUP s of the same load
(the start figure), at every minute, and at the end (under load, like the start figure); each
figure is the lowest of 10 samples over the last second, because a login in flight holds a
19 MiB argon2id buffer that a single sample would catch now and then. The highest sample
(every 100 ms) of each minute is printed beside it.

Prints one line per minute (requests, p50/p99 in ms per kind, errors, RSS, CPU), then a summary
against the targets: 0 errors; RSS at the end within 10 % of the start; p99 steady, meaning the
highest per-minute p99 of the key checks is at most 2x the median per-minute p99, both taken
over the minutes after the first. Exit status 0 when all targets are met, 1 when one is missed
or the run failed.

Everything it starts is stopped, and the PostgreSQL database pcl_soak_<random> dropped, on
exit, including on Ctrl-C or SIGTERM (what was measured so far is still summarised).

Tunables (environment): SOAK_DURATION (600 s), SOAK_BACKEND (sqlite | postgres),
SOAK_WARMUP (10 s), SOAK_KEY_THREADS (2), SOAK_SESSION_THREADS (1), SOAK_LOGIN_RATE (2 /s),
SOAK_WRITE_RATE (1 cycle/s), SOAK_TIMEOUT (10 s), SOAK_SHOW_ERRORS (5), SOAK_INTERVAL (60 s:
the reporting period; shorter only to try the script out), SOAK_SERVER_LOG (warn),
SOAK_PG_HOST (127.0.0.1), SOAK_PG_PORT (5432), SOAK_PG_USER (postgres), PORTCULLIS_BIN
(target/release/portcullis).
"""

import http.client
import json
import math
import os
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.client import HTTPConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import expect, free_port, on_signal, proc_cpu_s, rss_kib, verdict  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.environ.get("PORTCULLIS_BIN") or os.path.join(ROOT, "target", "release", "portcullis")

DURATION = int(os.environ.get("SOAK_DURATION", "600"))
BACKEND = os.environ.get("SOAK_BACKEND", "sqlite").strip()
WARMUP = float(os.environ.get("SOAK_WARMUP", "10"))
KEY_THREADS = int(os.environ.get("SOAK_KEY_THREADS", "2"))
SESSION_THREADS = int(os.environ.get("SOAK_SESSION_THREADS", "1"))
LOGIN_RATE = float(os.environ.get("SOAK_LOGIN_RATE", "2"))
WRITE_RATE = float(os.environ.get("SOAK_WRITE_RATE", "1"))
TIMEOUT = float(os.environ.get("SOAK_TIMEOUT", "10"))
SHOW_ERRORS = int(os.environ.get("SOAK_SHOW_ERRORS", "5"))
INTERVAL = int(os.environ.get("SOAK_INTERVAL", "60"))
PG_HOST = os.environ.get("SOAK_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("SOAK_PG_PORT", "5432")
PG_USER = os.environ.get("SOAK_PG_USER", "postgres")

KINDS = ("key", "session", "login", "write")
ROOT_TOKEN = "soak-root-" + secrets.token_hex(16)
EMAIL = "soak@example.com"
MEMBER_EMAIL = "soak-member@example.com"
PASSWORD = "soak-password-" + secrets.token_hex(4)
AUTHZ = "/api/v1/authorize?permission=read"
TABLES = ("users", "sessions", "organizations", "memberships", "api_keys", "audit_events")

# ---------------------------------------------------------------------------------------------
# cleanup: every process we start and every database we create is registered here (as in
# bench.py)


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
        STOP.set()
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
STOP = threading.Event()          # tells the load threads to finish


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# helpers (from bench.py)


def psql(db, sql, check=True):
    r = subprocess.run(
        ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", db, "-v", "ON_ERROR_STOP=1",
         "-X", "-q", "-A", "-t", "-c", sql],
        capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr.strip()}")
    return r


RSS_FLOOR_SAMPLES = 10             # the RSS figure: the lowest of 10 samples 0.1 s apart


class RssPeak:
    """Samples VmRSS every 100 ms in the background; .take() gives the highest since the last
    take."""

    def __init__(self, pid):
        self.pid, self.peak = pid, 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not STOP.is_set():
            v = rss_kib(self.pid)
            if v:
                self.peak = max(self.peak, v)
            STOP.wait(0.1)

    def take(self):
        v, self.peak = self.peak, 0
        return v


def rss_floor(pid):
    """The lowest VmRSS of RSS_FLOOR_SAMPLES samples 0.1 s apart (takes 1 s). Each login holds
    a 19 MiB argon2id buffer (Argon2::default(): m = 19 MiB) for its ~0.1 s, so a single sample
    lands on one now and then and reads ~19 MiB high; the floor is what stays allocated."""
    values = []
    for i in range(RSS_FLOOR_SAMPLES):
        v = rss_kib(pid)
        if v:
            values.append(v)
        if i < RSS_FLOOR_SAMPLES - 1:
            time.sleep(0.1)
    return min(values) if values else None


CLK_TCK = os.sysconf("SC_CLK_TCK")


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


def machine_busy_s():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / CLK_TCK          # all but idle and iowait


class CpuMeter:
    """Per period: the server's CPU (PostgreSQL: plus its backends) and the share of the machine
    used by processes outside the soak (other people's builds skew every latency)."""

    def __init__(self, server_pid, pg_db):
        self.pid, self.pg_db = server_pid, pg_db
        self.last = self._read()

    def _read(self):
        me = resource.getrusage(resource.RUSAGE_SELF)
        server = proc_cpu_s(self.pid)
        db = pg_backends_cpu_s(self.pg_db)
        return time.monotonic(), machine_busy_s(), server, db, me.ru_utime + me.ru_stime

    def period(self):
        now = self._read()
        t0, busy0, server0, db0, me0 = self.last
        t1, busy1, server1, db1, me1 = now
        self.last = now
        elapsed = max(t1 - t0, 1e-9)
        ours = (server1 - server0) + (db1 - db0) + (me1 - me0)
        other = (busy1 - busy0) - ours
        return {"server_pct": 100.0 * ((server1 - server0) + (db1 - db0)) / elapsed,
                "client_pct": 100.0 * (me1 - me0) / elapsed,
                "other_pct": max(0.0, 100.0 * other / (elapsed * (os.cpu_count() or 1)))}


def http(port, method, path, body=None, headers=None):
    """One request on a fresh connection (seeding only)."""
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


def session_cookie(headers):
    return next((c.split(";")[0] for c in headers.get_all("Set-Cookie") or []
                 if c.startswith("portcullis_session=")), None)


def ms(seconds):
    return f"{seconds * 1000:.2f}"


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


# ---------------------------------------------------------------------------------------------
# recording


class Recorder:
    """Latencies, request counts and errors per (period, kind). Period -1 is the warm-up; a
    request belongs to the period in which its answer arrived (the last period also takes the
    few requests in flight when the load stops)."""

    def __init__(self):
        self.t0 = None              # start of the measured run (monotonic)
        self.periods = max(1, math.ceil(DURATION / INTERVAL))
        self.latencies = {}         # (period, kind) -> [seconds] of answered requests
        self.requests = {}          # (period, kind) -> count, answered or not
        self.errors = {}            # (period, kind) -> count
        self.first_errors = []      # (period, kind, text)
        self.lock = threading.Lock()

    def period_of(self, t):
        if self.t0 is None or t < self.t0:
            return -1
        return min(int((t - self.t0) // INTERVAL), self.periods - 1)

    def add(self, kind, done, elapsed, error=None, answered=True):
        p = self.period_of(done)
        key = (p, kind)
        if answered:
            self.latencies.setdefault(key, []).append(elapsed)
        with self.lock:
            self.requests[key] = self.requests.get(key, 0) + 1
            if error is not None:
                self.errors[key] = self.errors.get(key, 0) + 1
                if len(self.first_errors) < SHOW_ERRORS:
                    when = "warm-up" if p < 0 else f"minute {p + 1}"
                    self.first_errors.append(f"{kind}, {when}, t+{done - (self.t0 or done):.1f} s: {error}")

    def period_stats(self, p):
        out = {}
        for kind in KINDS:
            lat = sorted(self.latencies.get((p, kind), []))
            out[kind] = {"n": self.requests.get((p, kind), 0), "errors": self.errors.get((p, kind), 0),
                         "p50": percentile(lat, 50), "p99": percentile(lat, 99),
                         "max": lat[-1] if lat else None}
        return out

    def drop(self, p):
        for kind in KINDS:
            self.latencies.pop((p, kind), None)


REC = Recorder()


class Client:
    """One keep-alive connection; a broken one is replaced on the next request."""

    def __init__(self, port):
        self.port, self.conn = port, None

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None

    def call(self, kind, method, path, expect_status, headers=None, body=None):
        """The response (status, headers, raw body) or None after a connection error/timeout;
        recorded either way, as an error unless the status is the expected one."""
        data = json.dumps(body).encode() if body is not None else None
        h = dict(headers or {})
        if data is not None:
            h["Content-Type"] = "application/json"
        t = time.monotonic()
        try:
            if self.conn is None:
                self.conn = HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            self.conn.request(method, path, body=data, headers=h)
            resp = self.conn.getresponse()
            raw = resp.read()
            if resp.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as e:
            done = time.monotonic()
            self.close()
            REC.add(kind, done, done - t, error=f"{method} {path}: {type(e).__name__}: {e} "
                                                f"(after {done - t:.2f} s)", answered=False)
            return None
        done = time.monotonic()
        error = None
        if resp.status != expect_status:
            error = (f"{method} {path}: HTTP {resp.status}, expected {expect_status}: "
                     f"{raw[:400].decode(errors='replace')}")
        REC.add(kind, done, done - t, error=error)
        return resp.status, resp.headers, raw


# ---------------------------------------------------------------------------------------------
# the server


class Server:
    def __init__(self, workdir):
        self.workdir = workdir
        self.pg_db = None
        if BACKEND == "sqlite":
            self.sqlite_path = os.path.join(workdir, "portcullis-soak.db")
            self.url = f"sqlite://{self.sqlite_path}?mode=rwc"
        else:
            self.pg_db = f"pcl_soak_{secrets.token_hex(4)}"
            self.url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.pg_db}"

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
            "PORTCULLIS_LOG": os.environ.get("SOAK_SERVER_LOG", "warn"),
            # Every request comes from 127.0.0.1: the per-address login limit (default 60/min)
            # and the per-address limit on failed authentications (default 300/min; the
            # revoked-key checks are failed authentications) would throttle the load.
            "PORTCULLIS_LOGIN_RATE_LIMIT": "0",
            "PORTCULLIS_FAILED_AUTH_LIMIT": "0",
        })
        self.log_path = os.path.join(self.workdir, "server.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([BIN, "serve"], env=env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        CLEANUP.procs.append(self.proc)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log:\n" + self.log_tail())
            try:
                if http(self.port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not answer /healthz in time")
        log(f"{BACKEND}: server pid {self.proc.pid} listening on 127.0.0.1:{self.port}")

    def log_tail(self, chars=4000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def log_lines(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return [l.rstrip("\n") for l in f if l.strip()]
        except OSError:
            return []

    def seed(self):
        p = self.port
        root = {"Authorization": f"Bearer {ROOT_TOKEN}"}
        expect("create user", http(p, "POST", "/api/v1/admin/users",
                                   {"email": EMAIL, "name": "Soak", "password": PASSWORD}, root), 201)
        _, _, member = expect("create member user", http(p, "POST", "/api/v1/admin/users",
                                                         {"email": MEMBER_EMAIL, "name": "Soak member",
                                                          "password": "soak-member-" + secrets.token_hex(4)},
                                                         root), 201)
        self.member_id = member["id"]
        _, hdrs, _ = expect("login", http(p, "POST", "/api/v1/auth/login",
                                          {"email": EMAIL, "password": PASSWORD}), 200)
        self.cookie = session_cookie(hdrs)
        if not self.cookie:
            raise RuntimeError("login set no portcullis_session cookie")
        self.origin = f"http://127.0.0.1:{p}"
        as_session = {"Cookie": self.cookie, "Origin": self.origin}
        _, _, org = expect("create organization", http(p, "POST", "/api/v1/organizations",
                                                       {"name": "Soak", "slug": "soak"}, as_session), 201)
        self.org = org["id"]
        _, _, key = expect("create API key", http(p, "POST", f"/api/v1/organizations/{self.org}/api-keys",
                                                  {"name": "soak", "scopes": ["read"]}, as_session), 201)
        self.key = key["key"]
        expect("authorize with the key", http(p, "GET", AUTHZ, None, {"X-API-Key": self.key}), 200)
        expect("authorize with the session",
               http(p, "GET", f"{AUTHZ}&organization_id={self.org}", None, {"Cookie": self.cookie}), 200)
        log(f"{BACKEND}: seeded 2 users, organization {self.org}, key {self.key[:12]}…, session")

    def row_counts(self):
        """Rows per table, read beside the running server (to show what the writes left)."""
        try:
            if self.pg_db:
                sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in TABLES)
                out = psql(self.pg_db, sql).stdout
                return {name: int(n) for name, n in (l.split("|") for l in out.strip().splitlines())}
            db = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=30)
            try:
                return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
            finally:
                db.close()
        except Exception as e:   # a diagnostic only
            return {"error": str(e)}

    def db_size(self):
        if self.pg_db:
            r = psql(self.pg_db, f"SELECT pg_database_size('{self.pg_db}')", check=False)
            return f"{int(r.stdout.strip()) // 1024} KiB" if r.returncode == 0 else None
        files = [p for p in (self.sqlite_path, self.sqlite_path + "-wal") if os.path.exists(p)]
        return " + WAL ".join(f"{os.path.getsize(p) // 1024} KiB" for p in files)


# ---------------------------------------------------------------------------------------------
# the load


def paced(rate):
    """Yields while running, SOAK_*_RATE times per second (no catching up after a slow one)."""
    step, nxt = 1.0 / rate, time.monotonic()
    while not STOP.is_set():
        yield
        nxt = max(nxt + step, time.monotonic())
        if STOP.wait(max(0.0, nxt - time.monotonic())):
            return


def key_loop(srv):
    c, h = Client(srv.port), {"X-API-Key": srv.key}
    while not STOP.is_set():
        c.call("key", "GET", AUTHZ, 200, h)
    c.close()


def session_loop(srv):
    c, h = Client(srv.port), {"Cookie": srv.cookie}
    path = f"{AUTHZ}&organization_id={srv.org}"
    while not STOP.is_set():
        c.call("session", "GET", path, 200, h)
    c.close()


def login_loop(srv):
    c = Client(srv.port)
    for _ in paced(LOGIN_RATE):
        r = c.call("login", "POST", "/api/v1/auth/login", 200, body={"email": EMAIL, "password": PASSWORD})
        if not r or r[0] != 200:
            continue
        cookie = session_cookie(r[1])
        if not cookie:
            REC.add("login", time.monotonic(), 0.0, error="login answered 200 without a portcullis_session cookie",
                    answered=False)
            continue
        # end it again, or the sessions table would grow for the whole run
        c.call("write", "POST", "/api/v1/auth/logout", 204, {"Cookie": cookie, "Origin": srv.origin})
    c.close()


def write_loop(srv):
    c, n = Client(srv.port), 0
    owner = {"Cookie": srv.cookie, "Origin": srv.origin}
    for _ in paced(WRITE_RATE):
        n += 1
        r = c.call("write", "POST", "/api/v1/organizations", 201, owner,
                   {"name": f"Soak {n}", "slug": f"soak-{n}"})
        if not r or r[0] != 201:
            continue
        org = f"/api/v1/organizations/{json.loads(r[2])['id']}"
        try:
            r = c.call("write", "POST", f"{org}/api-keys", 201, owner, {"name": f"soak-{n}", "scopes": ["read"]})
            if r and r[0] == 201:
                key = json.loads(r[2])
                c.call("write", "GET", AUTHZ, 200, {"X-API-Key": key["key"]})
                c.call("write", "DELETE", f"{org}/api-keys/{key['id']}", 204, owner)
                c.call("write", "GET", AUTHZ, 401, {"X-API-Key": key["key"]})   # revoked: refused
            r = c.call("write", "POST", f"{org}/members", 201, owner, {"email": MEMBER_EMAIL, "role": "viewer"})
            if r and r[0] == 201:
                c.call("write", "DELETE", f"{org}/members/{srv.member_id}", 204, owner)
        finally:
            c.call("write", "DELETE", org, 204, owner)
    c.close()


# ---------------------------------------------------------------------------------------------
# report


def fmt_ms(v):
    return "-" if v is None else ms(v)


def header():
    cols = "".join(f" {k + ' n':>9} {'p50':>6} {'p99':>7}" for k in KINDS)
    h = (f"{'minute' if INTERVAL == 60 else 'period':>6}{cols} {'errors':>6} {'RSS MiB':>8} {'peak':>5} {'srv CPU':>7} "
         f"{'other CPU':>9}")
    return h, "-" * len(h)


def period_line(p, st, rss, peak, cpu):
    cols = "".join(f" {st[k]['n']:>9} {fmt_ms(st[k]['p50']):>6} {fmt_ms(st[k]['p99']):>7}" for k in KINDS)
    errors = sum(st[k]["errors"] for k in KINDS)
    label = "warm" if p < 0 else str(p + 1)
    return (f"{label:>6}{cols} {errors:>6} {(rss or 0) / 1024:>8.1f} {(peak or 0) / 1024:>5.1f} "
            f"{cpu['server_pct']:>6.0f}% {cpu['other_pct']:>8.0f}%")


def summary(srv, rows, rss_start, rss_end, rows_start, size_start, measured_s, interrupted):
    print()
    period_word = "minute" if INTERVAL == 60 else f"{INTERVAL} s period"
    cut = " (INTERRUPTED: the complete periods only; RSS at end = the last period's sample)"
    print(f"Soak summary: {BACKEND}, {measured_s:.0f} s measured" + (cut if interrupted else "")
          + f" after a {WARMUP:.0f} s warm-up; "
          f"{KEY_THREADS} key + {SESSION_THREADS} session threads (closed loop), {LOGIN_RATE:g} logins/s, "
          f"{WRITE_RATE:g} write cycles/s; loopback; {os.cpu_count()} CPUs shared by server, "
          f"{'database, ' if srv.pg_db else ''}this client and anything else running (load average now "
          f"{os.getloadavg()[0]:.2f})")
    print("p50/p99 in ms, measured by the client (python threads: includes client-side queueing); 'RSS MiB': "
          "server VmRSS, lowest of 10 samples over the period's last second; 'peak': highest 100 ms sample "
          "of the period (a login's 19 MiB argon2id buffer shows here); 'srv CPU': server"
          + (" + PostgreSQL backends" if srv.pg_db else "")
          + " CPU, % of one core; 'other CPU': share of the machine used by processes outside the soak")
    total = {k: sum(st[k]["n"] for _, st, _, _ in rows) for k in KINDS}
    print("requests: " + ", ".join(f"{k} {total[k]:,} ({total[k] / max(measured_s, 1e-9):.0f}/s)" for k in KINDS))
    rows_end, size_end = srv.row_counts(), srv.db_size()
    print(f"database rows at start / end: " + ", ".join(
        f"{t} {rows_start.get(t, '?')}/{rows_end.get(t, '?')}" for t in TABLES)
        + (f"; size {size_start} / {size_end}" if size_start is not None and size_end is not None else ""))
    warn = [l for l in srv.log_lines() if " WARN " in l or " ERROR " in l or "panicked" in l]
    print(f"server log: {len(warn)} WARN/ERROR lines" + (":" if warn else ""))
    for l in warn[:SHOW_ERRORS]:
        print(f"  {l[:300]}")

    errors = {k: sum(c for (p, kind), c in REC.errors.items() if kind == k) for k in KINDS}
    n_errors = sum(errors.values())
    warm_errors = sum(c for (p, _), c in REC.errors.items() if p < 0)
    print()
    print("Targets")
    print(f"  {verdict(n_errors == 0):<7} 0 errors (5xx, connection errors/timeouts, unexpected statuses): "
          f"{n_errors} (" + ", ".join(f"{k} {errors[k]}" for k in KINDS) + ")"
          + (f", {warm_errors} of them in the warm-up" if warm_errors else ""))
    for e in REC.first_errors:
        print(f"          {e}")
    rss_ok = None
    if rss_start and rss_end:
        change = (rss_end - rss_start) / rss_start
        rss_ok = abs(change) <= 0.10
        samples = [r for _, _, r, _ in rows if r]
        peak = max((pk for _, _, _, pk in rows if pk), default=0)
        print(f"  {verdict(rss_ok):<7} RSS flat within 10 %: {rss_start / 1024:.1f} MiB at start, "
              f"{rss_end / 1024:.1f} MiB at end ({change * 100:+.1f} %); per-{period_word} figures "
              f"{min(samples) / 1024:.1f}-{max(samples) / 1024:.1f} MiB, highest single sample "
              f"{peak / 1024:.1f} MiB")
    else:
        print(f"  {'MISSED':<7} RSS flat within 10 %: no start or end sample")
    p99s = [st["key"]["p99"] for _, st, _, _ in rows]
    after_first = [v for v in p99s[1:] if v is not None]
    steady_ok = None
    rule = (f"the highest per-{period_word} p99 of the key checks at most 2x the median per-{period_word} "
            f"p99, both over the {period_word}s after the first")
    listing = ", ".join(fmt_ms(v) for v in p99s)
    if len(after_first) >= 1:
        hi, med = max(after_first), statistics.median(after_first)
        steady_ok = hi <= 2 * med
        print(f"  {verdict(steady_ok):<7} p99 steady ({rule}): highest {ms(hi)} ms, median {ms(med)} ms "
              f"= {hi / med:.2f}x; key p99 per {period_word} (ms): {listing}")
    else:
        print(f"  {'n/a':<7} p99 steady ({rule}): needs at least 2 {period_word}s; key p99 (ms): {listing}")
    return n_errors == 0 and rss_ok is True and steady_ok is not False and not interrupted


def main():
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    if BACKEND not in ("sqlite", "postgres"):
        sys.exit(f"SOAK_BACKEND must be sqlite or postgres, not {BACKEND!r}")
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no server binary at {BIN}: build it with `cargo build --release -p portcullis-server` "
                 f"or set PORTCULLIS_BIN")
    workdir = tempfile.mkdtemp(prefix="portcullis-soak-")
    CLEANUP.dirs.append(workdir)
    srv = Server(workdir)
    rows, rss_start, rss_end, t_end, ok = [], None, None, None, False
    interrupted = False
    try:
        srv.start()
        srv.seed()
        rows_start, size_start = srv.row_counts(), srv.db_size()
        threads = ([threading.Thread(target=key_loop, args=(srv,), daemon=True) for _ in range(KEY_THREADS)]
                   + [threading.Thread(target=session_loop, args=(srv,), daemon=True)
                      for _ in range(SESSION_THREADS)]
                   + [threading.Thread(target=login_loop, args=(srv,), daemon=True)]
                   + [threading.Thread(target=write_loop, args=(srv,), daemon=True)])
        log(f"{BACKEND}: {WARMUP:.0f} s warm-up, then {DURATION} s of mixed load: {KEY_THREADS} key-check "
            f"threads, {SESSION_THREADS} session-check, {LOGIN_RATE:g} logins/s, {WRITE_RATE:g} write cycles/s")
        cpu = CpuMeter(srv.proc.pid, srv.pg_db)
        peaks = RssPeak(srv.proc.pid)
        for t in threads:
            t.start()
        time.sleep(max(0.0, WARMUP - 1.0))
        rss_start = rss_floor(srv.proc.pid)        # the warm-up's last second
        REC.t0 = time.monotonic()
        warm = REC.period_stats(-1)
        REC.drop(-1)
        h, rule = header()
        print(h)
        print(rule)
        print(period_line(-1, warm, rss_start, peaks.take(), cpu.period()), flush=True)
        for p in range(REC.periods):
            end = REC.t0 + min((p + 1) * INTERVAL, DURATION)
            while (left := end - 1.0 - time.monotonic()) > 0:
                time.sleep(min(left, 1.0))
                if srv.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {srv.proc.returncode}; log:\n" + srv.log_tail())
            rss = rss_floor(srv.proc.pid)            # the period's last second
            if (left := end - time.monotonic()) > 0:
                time.sleep(left)
            peak = peaks.take()
            c = cpu.period()
            if p == REC.periods - 1:
                rss_end, t_end = rss, time.monotonic()
                STOP.set()
                for t in threads:
                    t.join(timeout=TIMEOUT + 5)
            else:
                time.sleep(0.2)       # answers that arrived just before the boundary get recorded
            st = REC.period_stats(p)
            REC.drop(p)
            rows.append((p, st, rss, peak))
            print(period_line(p, st, rss, peak, c), flush=True)
        ok = summary(srv, rows, rss_start, rss_end, rows_start, size_start, t_end - REC.t0, False)
    except SystemExit as e:
        if rows and not CLEANUP.done:
            interrupted = True
            STOP.set()
            log(f"interrupted (exit {e.code}): summarising the {len(rows)} complete period(s)")
            try:
                summary(srv, rows, rss_start, rows[-1][2], rows_start, size_start,
                        min(len(rows) * INTERVAL, DURATION), True)
            except Exception as e2:
                log(f"could not summarise: {e2}")
        raise
    except Exception as e:
        log(f"FAILED: {e}")
        if getattr(srv, "log_path", None):
            log("last lines of the server log:\n" + srv.log_tail(3000))
        raise SystemExit(1)
    finally:
        STOP.set()
        CLEANUP.run()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
