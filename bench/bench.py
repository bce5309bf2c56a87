#!/usr/bin/env python3
"""Measures the release server against its limit and against a Flask peer.

Run through `bench/run.sh`, which builds everything first. Every figure comes
from `wrk` on loopback in this one run; see BENCHMARKS.md for what each row
means. Writes bench/results.json and the table in BENCHMARKS.md, and prints
the table. Standard library only (the Flask peer runs in its own venv).
"""

import argparse
import base64
import functools
import gzip
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "persistent-login"
# The plain axum + tower-sessions page (bench/page-floor), built by bench/run.sh.
FLOOR_BINARY = ROOT / "target" / "page-floor" / "release" / "page-floor"
PKG = ROOT / "target" / "site" / "pkg"
PEER_APP = ROOT / "bench" / "peer"
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "BENCHMARKS.md"

OURS_PORT = 3100
PEER_PORT = 3200
# Strong enough for the zxcvbn check (score >= 3), and never a real secret.
PASSWORD = "plum-Orbit-7-quartz-Lantern"
SESSIONS = 16  # distinct signed-in sessions the dashboard load rotates through
KB = 1000

# wrk prints one JSON line at the end of each run; latencies are microseconds.
REPORT_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"bytes":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"socket_errors":%d,"timeouts":%d,"http_errors":%d}\n',
    summary.requests, summary.bytes, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.timeout,
    e.status))
end
"""


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- HTTP helpers


def call(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def form(fields):
    return urlencode(fields)


def session_cookie(headers):
    """The name=value pair of the (last) Set-Cookie header."""
    pairs = [value.split(";", 1)[0] for name, value in headers if name.lower() == "set-cookie"]
    if not pairs:
        raise RuntimeError(f"no Set-Cookie in {headers}")
    return pairs[-1]


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def wait_ready(port, process, deadline_secs=60.0):
    """Seconds until GET /healthz first answers 200 (polled every millisecond)."""
    start = time.perf_counter()
    while time.perf_counter() - start < deadline_secs:
        if process.poll() is not None:
            raise RuntimeError(f"server on :{port} exited with {process.returncode}")
        try:
            status, _, _ = call(port, "GET", "/healthz")
            if status == 200:
                return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.001)
    raise RuntimeError(f"server on :{port} not ready after {deadline_secs} s")


# --------------------------------------------------------------------- servers


class Server:
    def __init__(self, name, argv, env, port, workdir):
        self.name, self.argv, self.env, self.port, self.workdir = name, argv, env, port, workdir
        self.process = None

    def start(self):
        log_file = open(self.workdir / f"{self.name}.log", "ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
        wait_ready(self.port, self.process)
        return time.perf_counter() - started

    def stop(self):
        if self.process and self.process.poll() is None:
            family = self.pids()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            for pid in family:  # nothing may keep the port (e.g. orphaned workers)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.wait()
        self.process = None

    def pids(self):
        """The server process and, for gunicorn, its workers."""
        pids = [self.process.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids


def ours(workdir, database, extra_env=None, binary=None):
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite://{database}",
            "LEPTOS_SITE_ADDR": f"127.0.0.1:{OURS_PORT}",
            "LEPTOS_SITE_ROOT": str(ROOT / "target" / "site"),
            "RUST_LOG": "warn",
            # Every bench user signs up from 127.0.0.1.
            "THROTTLE_SIGN_UPS_PER_ADDRESS": "100000",
        }
    )
    env.pop("LEPTOS_WATCH", None)
    env.update(extra_env or {})
    return Server("ours", [str(binary or BINARY)], env, OURS_PORT, workdir)


def peer(workdir, python, database, workers, extra_env=None):
    env = dict(os.environ)
    env.update({"PEER_SECRET_KEY": secrets.token_hex(32), "PEER_DATABASE": str(database)})
    env.update(extra_env or {})
    argv = [
        str(Path(python).parent / "gunicorn"),
        "--chdir", str(PEER_APP),
        "--bind", f"127.0.0.1:{PEER_PORT}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", "4",
        "--graceful-timeout", "5",
        "--log-level", "warning",
        "app:app",
    ]
    return Server("peer", argv, env, PEER_PORT, workdir)


def peer_users(python, database, count):
    """Creates the peer's users with werkzeug's default password hash."""
    script = (
        "import sqlite3, sys\n"
        "from werkzeug.security import generate_password_hash\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "db.execute('CREATE TABLE users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL)')\n"
        "db.executemany('INSERT INTO users VALUES (?, ?)', "
        "[(f'bench{n}', generate_password_hash(sys.argv[3])) for n in range(int(sys.argv[2]))])\n"
        "db.commit()\n"
    )
    subprocess.run([python, "-c", script, str(database), str(count), PASSWORD], check=True)


# ------------------------------------------------------------------ sign-ins


def sign_up_ours(port, count):
    for n in range(count):
        for _ in range(5):
            status, headers, body = call(
                port, "POST", "/api/register",
                form({"username": f"bench{n}", "password": PASSWORD}), FORM_HEADERS,
            )
            if status != 503:
                break
            # Busy: wait as the answer asks.
            time.sleep(int(dict((k.lower(), v) for k, v in headers).get("retry-after", "1")))
        if status >= 400:
            raise RuntimeError(f"sign-up bench{n}: {status} {body}")


def post_credentials(port, path, n, **extra):
    """POSTs user bench{n}'s username and password (and `extra` fields)."""
    return call(
        port, "POST", path,
        form({"username": f"bench{n}", "password": PASSWORD, **extra}), FORM_HEADERS,
    )


def sign_in_ours(port, n):
    status, headers, body = post_credentials(port, "/api/login", n, remember="on")
    if status >= 400:
        raise RuntimeError(f"sign-in bench{n}: {status} {body}")
    return session_cookie(headers)


def sign_in_peer(port, n):
    status, headers, body = post_credentials(port, "/login", n)
    if status != 302:
        raise RuntimeError(f"peer sign-in bench{n}: {status} {body}")
    return session_cookie(headers)


def bench_sessions():
    """Signs up our server's bench users and signs each in: their cookies."""
    sign_up_ours(OURS_PORT, SESSIONS)
    return [sign_in_ours(OURS_PORT, n) for n in range(SESSIONS)]


def token_for_ours(port, n):
    """A bearer token of user bench{n} (POST /api/token)."""
    status, _, body = post_credentials(port, "/api/token", n)
    if status != 200:
        raise RuntimeError(f"token for bench{n}: {status} {body}")
    return json.loads(body)["token"]


def check_signed_in(port, cookies):
    """Every cookie must open the dashboard: a 303 to /login would be
    counted by wrk as a success and make the figure meaningless."""
    for n, cookie in enumerate(cookies):
        status, _, body = call(port, "GET", "/dashboard", headers={"Cookie": cookie})
        if status != 200 or f"bench{n}" not in body:
            raise RuntimeError(f"session {n} does not open the dashboard ({status})")


# ------------------------------------------------------------------------ wrk


def wrk(port, path, seconds, connections, script="", timeout="10s", until=None, threads=1):
    """One wrk run; with `until` (a threading.Event) it stops early, when set."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + REPORT_LUA)
    try:
        process = subprocess.Popen(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", timeout,
             "-s", lua.name, f"http://127.0.0.1:{port}{path}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        if until is not None:
            while process.poll() is None and not until.wait(0.1):
                pass
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # wrk stops and still reports
        out, err = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"wrk failed: {err}")
    finally:
        os.unlink(lua.name)
    line = next(line for line in out.splitlines() if line.startswith("JSON "))
    result = json.loads(line[5:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    if result["socket_errors"] or result["http_errors"]:
        log(f"{path}: {result['socket_errors']} socket and {result['http_errors']} HTTP errors")
    return result


def rotating_cookies(cookies, path):
    quoted = ", ".join(json.dumps(cookie) for cookie in cookies)
    return (
        f"local cookies = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #cookies + 1\n"
        f'  return wrk.format("GET", "{path}", {{["Cookie"] = cookies[i]}})\nend\n'
    )


def rotating_headers(name, values, path):
    quoted = ", ".join(json.dumps(value) for value in values)
    return (
        f"local values = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #values + 1\n"
        f'  return wrk.format("GET", "{path}", {{["{name}"] = values[i]}})\nend\n'
    )


def rotating_sign_ins(path, users, remember):
    bodies = ", ".join(
        json.dumps(form({"username": f"bench{n}", "password": PASSWORD, **remember}))
        for n in range(users)
    )
    return (
        f"local bodies = {{{bodies}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #bodies + 1\n"
        f'  return wrk.format("POST", "{path}", '
        '{["Content-Type"] = "application/x-www-form-urlencoded"}, bodies[i])\nend\n'
    )


# --------------------------------------------------------------------- memory


class PeakMemory:
    """Samples the resident memory (sum over the server's processes) every 20 ms."""

    def __init__(self, server):
        self.server, self.peak_kib, self.running = server, 0, False

    def __enter__(self):
        self.pids = self.server.pids()
        self.running = True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.running = False
        self.thread.join()

    def sample(self):
        while self.running:
            total = 0
            for pid in self.pids:
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
                except (OSError, AttributeError):
                    pass
            self.peak_kib = max(self.peak_kib, total)
            time.sleep(0.02)


# ------------------------------------------------------------------ scenarios


def median_run(runs, key):
    """The run with the median `key`, carrying every run's `key` as `<key>_runs`."""
    chosen = sorted(runs, key=lambda run: run[key])[len(runs) // 2]
    return dict(chosen, **{f"{key}_runs": [run[key] for run in runs]})


def web_figures(port, cookies, seconds, login_path, rounds=3):
    """The limit, the anonymous login page and the signed-in dashboard, under
    16 connections and over one keep-alive connection. The three pages take
    turns for `rounds` rounds and each keeps its median run (by req/s), so a
    passing disturbance on the machine does not decide a ratio."""
    dashboard = rotating_cookies(cookies, "/dashboard")
    pages = [
        ("limit", "/healthz", ""),
        ("login_page", login_path, ""),
        ("dashboard", "/dashboard", dashboard),
    ]
    runs = {name: [] for name, _, _ in pages}
    for _ in range(rounds):
        for name, path, script in pages:
            runs[name].append(wrk(port, path, seconds, 16, script))
    figures = {}
    for name, path, script in pages:
        figures[name] = median_run(runs[name], "rps")
        figures[f"{name}_single"] = wrk(port, path, max(3, seconds // 2), 1, script)
    check_signed_in(port, cookies)
    return figures


def api_me_figures(port, cookies, tokens, seconds, rounds=3):
    """`GET /api/me` by session cookie and by bearer token, each user its own,
    under 16 connections; the two take turns and each keeps its median run."""
    for n, token in enumerate(tokens):
        status, _, body = call(port, "GET", "/api/me", headers={"Authorization": f"Bearer {token}"})
        if status != 200 or f"bench{n}" not in body:
            raise RuntimeError(f"token {n} does not open /api/me ({status})")
    ways = [
        ("cookie", rotating_cookies(cookies, "/api/me")),
        ("bearer", rotating_headers("Authorization", [f"Bearer {t}" for t in tokens], "/api/me")),
    ]
    runs = {name: [] for name, _ in ways}
    for _ in range(rounds):
        for name, script in ways:
            runs[name].append(wrk(port, "/api/me", seconds, 16, script))
    return {name: median_run(runs[name], "rps") for name, _ in ways}


def flood_figures(server, port, cookies, seconds, login_path, remember, users, rounds=3):
    """Dashboard latency (4 connections) alone, then while 8 connections sign
    in as fast as the server lets them, in `rounds` alternating rounds (a
    single p99 of under a millisecond moves a lot from run to run here); the
    medians are compared. Peak memory is the highest seen during any flood."""
    dashboard = rotating_cookies(cookies, "/dashboard")
    alone, during, sign_in, peaks = [], [], [], []
    for _ in range(rounds):
        alone.append(wrk(port, "/dashboard", seconds, 4, dashboard))
        flood = {}

        def sign_ins():
            flood["sign_in"] = wrk(
                port, login_path, seconds + 3, 8, rotating_sign_ins(login_path, users, remember), "30s"
            )

        with PeakMemory(server) as memory:
            flooder = threading.Thread(target=sign_ins)
            flooder.start()
            time.sleep(1.5)  # let hashing saturate first
            during.append(wrk(port, "/dashboard", seconds, 4, dashboard))
            flooder.join()
        sign_in.append(flood["sign_in"])
        peaks.append(memory.peak_kib / 1024)
    check_signed_in(port, cookies)
    return {
        "dashboard_alone": median_run(alone, "p99_us"),
        "dashboard_during_flood": median_run(during, "p99_us"),
        "sign_in": median_run(sign_in, "rps"),
        "peak_rss_mib": max(peaks),
    }


def session_id():
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def rfc3339(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seed_sessions(database, total):
    """Fills the session table up to `total` rows, half of the filler expired
    (as a busy site between sweeps), straight into SQLite in one transaction.
    Each filler row carries a copy of a real record's data."""
    db = sqlite3.connect(database)
    try:
        (existing,) = db.execute("SELECT count(*) FROM tower_sessions").fetchone()
        (blob,) = db.execute("SELECT data FROM tower_sessions LIMIT 1").fetchone()
        now = datetime.now(timezone.utc)
        live, expired = rfc3339(now + timedelta(days=1)), rfc3339(now - timedelta(hours=1))
        missing = total - existing
        started = time.perf_counter()
        db.executemany(
            "INSERT INTO tower_sessions (id, data, expiry_date) VALUES (?, ?, ?)",
            ((session_id(), blob, expired if n % 2 else live) for n in range(missing)),
        )
        db.commit()
        return {"rows": total, "inserted": missing, "seconds": time.perf_counter() - started}
    finally:
        db.close()


def sweep_durations(database, workdir):
    """The store's own sweep against ours, on copies of the same million rows:
    how long each holds SQLite's write lock in one go."""
    results = {}
    for name in ("store", "ours"):
        copy = workdir / f"sweep-{name}.db"
        shutil.copyfile(database, copy)
        db = sqlite3.connect(copy, isolation_level=None)
        db.execute("PRAGMA synchronous = NORMAL")  # as the server runs it
        (before,) = db.execute("SELECT count(*) FROM tower_sessions").fetchone()
        started = time.perf_counter()
        longest = 0.0
        if name == "store":
            db.execute("DELETE FROM tower_sessions WHERE datetime(expiry_date) < datetime('now')")
            longest = time.perf_counter() - started
        else:
            cutoff = rfc3339(datetime.now(timezone.utc))
            while True:
                batch_start = time.perf_counter()
                deleted = db.execute(
                    "DELETE FROM tower_sessions WHERE rowid IN (SELECT rowid FROM tower_sessions "
                    "WHERE expiry_date < ? LIMIT 2000)", (cutoff,)
                ).rowcount
                longest = max(longest, time.perf_counter() - batch_start)
                if deleted < 2000:
                    break
        total = time.perf_counter() - started
        (after,) = db.execute("SELECT count(*) FROM tower_sessions").fetchone()
        db.close()
        copy.unlink()
        results[name] = {"deleted": before - after, "seconds": total, "longest_lock_ms": longest * 1000}
    return results


def scale_figures(workdir, seconds):
    database = workdir / "scale.db"
    server = ours(workdir, database)
    server.start()
    cookies = bench_sessions()
    server.stop()
    dashboard = rotating_cookies(cookies, "/dashboard")
    figures = {}
    for total in (1_000, 1_000_000):
        log(f"seeding {total:,} sessions")
        figures[f"seed_{total}"] = seed_sessions(database, total)
        server.start()
        check_signed_in(OURS_PORT, cookies)
        wrk(OURS_PORT, "/dashboard", 2, 16, dashboard)  # warm-up, not counted
        runs = [wrk(OURS_PORT, "/dashboard", seconds, 16, dashboard) for _ in range(3)]
        figures[f"dashboard_{total}"] = median_run(runs, "rps")
        server.stop()
    log("timing the expired-session sweeps on copies")
    figures["sweep"] = sweep_durations(database, workdir)
    # The server's own purge, 3 s after start, under a /dashboard load that
    # lasts until the purge has finished (watched through the row count).
    db = sqlite3.connect(database)
    (expired,) = db.execute(
        "SELECT count(*) FROM tower_sessions WHERE expiry_date < ?",
        (rfc3339(datetime.now(timezone.utc)),),
    ).fetchone()
    (before,) = db.execute("SELECT count(*) FROM tower_sessions").fetchone()
    db.close()
    sweeping = ours(workdir, database, {"SESSION_CLEANUP_INTERVAL_SECS": "3"})
    sweeping.start()
    started = time.perf_counter()
    load = {}
    window = 120
    done = threading.Event()
    loader = threading.Thread(
        target=lambda: load.update(wrk(OURS_PORT, "/dashboard", window, 16, dashboard, until=done)))
    loader.start()
    first = last = None
    watch = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    while loader.is_alive():
        (rows,) = watch.execute("SELECT count(*) FROM tower_sessions").fetchone()
        now = time.perf_counter() - started
        if rows < before and first is None:
            first = now
        if rows <= before - expired:
            last = now
            break
        time.sleep(0.25)
    done.set()
    watch.close()
    loader.join()
    sweeping.stop()
    figures["dashboard_while_sweeping"] = load
    figures["purge_in_server"] = {
        "expired": expired,
        "seconds": (last - first) if first is not None and last is not None else None,
    }
    if last is None:
        log(f"warning: the purge did not finish within the {window} s load")
    return figures


def size_figures():
    figures = {}
    for kind in ("wasm", "js"):
        files = sorted(PKG.glob(f"*.{kind}"))
        raw = sum(path.stat().st_size for path in files)
        packed = sum(gzipped_size(path) for path in files)
        # What is served to browsers that accept brotli: the files that
        # `cargo leptos build --release --precompress` writes beside them.
        brotli = [path.with_name(path.name + ".br") for path in files]
        served = sum(path.stat().st_size for path in brotli) if all(p.exists() for p in brotli) else None
        figures[kind] = {"files": [path.name for path in files], "raw": raw, "gzip": packed,
                         "brotli": served}
    return figures


def first_load_figures(port):
    """Bytes fetched before each page is interactive, in Chromium (bench/first_load.mjs)."""
    done = subprocess.run(
        ["node", str(ROOT / "bench" / "first_load.mjs"), f"http://127.0.0.1:{port}", "bench0", PASSWORD],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_load_gzip(r, page="/login"):
    """gzip -9 of the wasm and JS files Chromium fetched before `page` was
    interactive (lazy routes' chunks, and what loads after hydration, are not
    among them); all of them when the first-load figures are missing."""
    fetched = r.get("first_load", {}).get(page, {}).get("files")
    if not fetched:
        return r["size"]["wasm"]["gzip"] + r["size"]["js"]["gzip"]
    names = {Path(path).name for path in fetched}
    files = [p for p in PKG.iterdir() if p.name in names and p.suffix in (".wasm", ".js")]
    return sum(gzipped_size(p) for p in files)


@functools.cache
def gzipped_size(path):
    """gzip -9 of one file, once per run (`/` and `/login` share most files)."""
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def startup_figures(workdir, runs=5):
    """Process start to the first answered request, on a fresh database."""
    times = []
    for run in range(runs):
        server = ours(workdir, workdir / f"start-{run}.db")
        times.append(server.start() * 1000)
        server.stop()
    return {"runs_ms": times, "median_ms": statistics.median(times), "max_ms": max(times)}


# ------------------------------------------------------------------- fairness

# Hashing-thread nice values compared in one run (the server's default is 19);
# BENCH_NICE="12 14" compares others.
NICE_OPTIONS = tuple(int(n) for n in os.environ.get("BENCH_NICE", "0 10 19").split())
DEFAULT_NICE = 19
BUSY_PROCESSES = 3


class BusyProcesses:
    """`count` ordinary busy processes (`yes > /dev/null`), as a build or a
    neighbour's job would load the host. Each stops by itself after
    `limit_secs` (coreutils `timeout`) and all are killed on exit."""

    def __init__(self, count, limit_secs):
        self.count, self.limit_secs, self.processes = count, limit_secs, []

    def __enter__(self):
        self.processes = [
            subprocess.Popen(["timeout", str(self.limit_secs), "yes"], stdout=subprocess.DEVNULL)
            for _ in range(self.count)
        ]
        time.sleep(0.5)  # let them take the cores
        return self

    def __exit__(self, *_):
        # SIGTERM: `timeout` passes it on to its `yes` (a SIGKILL would leave
        # the `yes` running on its own, with no time limit).
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait()


def sign_in_latency(port, seconds, users):
    """Sign-ins back to back over 2 connections; a sign-in unanswered after
    5 s counts as a timeout, a 503 (busy) as an HTTP error."""
    return wrk(port, "/api/login", seconds, 2,
               rotating_sign_ins("/api/login", users, {"remember": "on"}), "5s")


def fairness_figures(workdir, seconds):
    """For each hashing nice value: sign-in latency on an idle machine, under
    a page load that saturates every core, and beside busy processes; the
    flood ratio of the dashboard's p99; and start-up beside busy processes."""
    figures = {}
    for nice in NICE_OPTIONS:
        log(f"fairness: hashing at nice {nice}")
        env = {"HASHING_NICE": str(nice)}
        server = ours(workdir, workdir / f"fair-{nice}.db", env)
        server.start()
        try:
            cookies = bench_sessions()
            check_signed_in(OURS_PORT, cookies)
            result = {"idle": sign_in_latency(OURS_PORT, seconds, SESSIONS)}

            pages = {}
            page_load = threading.Thread(target=lambda: pages.update(
                wrk(OURS_PORT, "/dashboard", seconds + 3, 32,
                    rotating_cookies(cookies, "/dashboard"))))
            page_load.start()
            time.sleep(1.5)
            result["page_load"] = sign_in_latency(OURS_PORT, seconds, SESSIONS)
            page_load.join()
            result["page_load_dashboard"] = pages

            with BusyProcesses(BUSY_PROCESSES, seconds + 10):
                result["busy"] = sign_in_latency(OURS_PORT, seconds, SESSIONS)

            flood = flood_figures(server, OURS_PORT, cookies, seconds, "/api/login",
                                  {"remember": "on"}, SESSIONS)
            result["flood_ratio"] = (flood["dashboard_during_flood"]["p99_us"]
                                     / flood["dashboard_alone"]["p99_us"])
            result["flood_sign_ins_per_s"] = flood["sign_in"]["rps"]
        finally:
            server.stop()
        with BusyProcesses(BUSY_PROCESSES, 60):
            busy_start = ours(workdir, workdir / f"fair-start-{nice}.db", env)
            result["busy_startup_ms"] = busy_start.start() * 1000
            # The first sign-up needs a hash too: it may not wait for an idle CPU.
            started = time.perf_counter()
            sign_up_ours(OURS_PORT, 1)
            result["busy_first_sign_up_ms"] = (time.perf_counter() - started) * 1000
            busy_start.stop()
        figures[str(nice)] = result
    return figures


def fairness_markdown(f):
    lines = [
        "| Hashing nice | Sign-in p50 / p99, idle | … under a saturating `/dashboard` load "
        "(32 conn.) | … beside 3 busy processes | Timeouts (> 5 s) / 503s | `/dashboard` p99 "
        "flood ratio | Ready after start, 3 busy processes | First sign-up then |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for nice, r in f.items():
        latency = lambda run: f"{ms(run['p50_us'])} / {ms(run['p99_us'])}"  # noqa: E731
        runs = [r["idle"], r["page_load"], r["busy"]]
        timeouts = sum(run["timeouts"] for run in runs)
        busy = sum(run["http_errors"] for run in runs)
        lines.append(
            f"| {nice}{' (default)' if int(nice) == DEFAULT_NICE else ''} | {latency(r['idle'])} "
            f"| {latency(r['page_load'])} | {latency(r['busy'])} | {timeouts} / {busy} "
            f"| {r['flood_ratio']:.2f}× | {r['busy_startup_ms']:.0f} ms "
            f"| {r['busy_first_sign_up_ms']:.0f} ms |")
    return "\n".join(lines)


def write_block(name, table, finished, heading):
    """Rewrites the `<!-- name:start … name:end -->` block of BENCHMARKS.md
    (appended under `heading` the first time)."""
    block = (
        f"<!-- {name}:start (written by bench/run.sh) -->\nRun {finished}, "
        f"{os.cpu_count()} cores.\n\n{table}\n<!-- {name}:end -->"
    )
    text = REPORT.read_text()
    pattern = rf"<!-- {name}:start.*?<!-- {name}:end -->"
    if re.search(pattern, text, flags=re.S):
        text = re.sub(pattern, lambda _: block, text, flags=re.S)
    else:
        text += f"\n## {heading}\n\n{block}\n"
    REPORT.write_text(text)


def write_fairness_report(figures, finished):
    write_block("fairness", fairness_markdown(figures), finished, "Fairness")


# --------------------------------------------------------------------- report


def machine():
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor())
    memory = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory / 1024 / 1024),
        "kernel": platform.release(), "wrk": wrk_version.strip(),
        "rustc": subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout.strip(),
        "python": platform.python_version(),
    }


def ms(microseconds):
    return f"{microseconds / 1000:.2f} ms"


def ratio(a, b):
    return f"{a / b:.2f}×" if b else "–"


def targets(r):
    o, p = r["ours"], r["peer"]
    # The first load of the two pages a visitor starts from, whichever is larger.
    size = max(first_load_gzip(r, "/"), first_load_gzip(r, "/login"))
    flood = r["flood"]["ours"]
    rows = [
        ("/dashboard ≥ 70 % of anonymous /login (req/s)",
         o["dashboard"]["rps"] / o["login_page"]["rps"], 0.70, "≥", "{:.0%}"),
        ("/dashboard ≥ 4× the Flask peer's /dashboard (req/s)",
         o["dashboard"]["rps"] / p["dashboard"]["rps"], 4.0, "≥", "{:.2f}×"),
        ("one keep-alive connection: /dashboard p50 < 1 ms",
         o["dashboard_single"]["p50_us"] / 1000, 1.0, "<", "{:.3f} ms"),
        ("/dashboard p99 under a sign-in flood ≤ 2× without",
         flood["dashboard_during_flood"]["p99_us"] / flood["dashboard_alone"]["p99_us"], 2.0, "≤",
         "{:.2f}×"),
        ("peak memory under the flood ≤ 300 MiB", flood["peak_rss_mib"], 300, "≤", "{:.0f} MiB"),
        ("/dashboard with 1,000,000 sessions ≥ 90 % of 1,000",
         r["scale"]["dashboard_1000000"]["rps"] / r["scale"]["dashboard_1000"]["rps"], 0.90, "≥",
         "{:.0%}"),
        ("wasm + JS fetched before / or /login is interactive ≤ 200 KB gzipped", size / KB, 200, "≤",
         "{:.1f} KB"),
        ("that first load has not grown past its 260.9 KB from before the accounts pages",
         size / KB, 260.9, "≤", "{:.1f} KB"),
        ("ready ≤ 300 ms after process start", r["startup"]["median_ms"], 300, "≤", "{:.0f} ms"),
        ("GET /api/me by bearer token ≥ 95 % of by cookie (req/s)",
         r["api_me"]["bearer"]["rps"] / r["api_me"]["cookie"]["rps"], 0.95, "≥", "{:.0%}"),
    ]
    fair = r["fairness"][str(DEFAULT_NICE)]
    rows += [
        ("sign-in p99 < 2 s under a saturating page load",
         fair["page_load"]["p99_us"] / 1e6, 2.0, "<", "{:.2f} s"),
        ("sign-in p99 < 2 s beside 3 busy processes",
         fair["busy"]["p99_us"] / 1e6, 2.0, "<", "{:.2f} s"),
        ("no sign-in times out (> 5 s), loaded or not",
         sum(fair[k]["timeouts"] for k in ("idle", "page_load", "busy")), 0, "≤", "{:.0f}"),
        ("ready ≤ 300 ms after start beside 3 busy processes",
         fair["busy_startup_ms"], 300, "≤", "{:.0f} ms"),
    ]
    checks = {"≥": lambda v, t: v >= t, "≤": lambda v, t: v <= t, "<": lambda v, t: v < t}
    return [
        {"target": name, "measured": fmt.format(value), "value": value, "limit": limit,
         "met": checks[op](value, limit)}
        for name, value, limit, op, fmt in rows
    ]


def markdown(r):
    o, p, f, s = r["ours"], r["peer"], r["flood"], r["scale"]
    lines = [
        "| Measure | Ours | × our limit | Flask peer | Ours ÷ peer |",
        "|---|---:|---:|---:|---:|",
    ]

    def row(name, ours_value, limit_ratio, peer_value, peer_ratio):
        lines.append(f"| {name} | {ours_value} | {limit_ratio} | {peer_value} | {peer_ratio} |")

    limit = o["limit"]["rps"]
    for key, name in [("limit", "Limit: `GET /healthz` (no session layer)"),
                      ("login_page", "Anonymous `/login` page (SSR)"),
                      ("dashboard", f"Signed-in `/dashboard` (SSR, {SESSIONS} sessions)")]:
        row(f"{name}, req/s, 16 conn.", f"{o[key]['rps']:,.0f}", ratio(o[key]["rps"], limit),
            f"{p[key]['rps']:,.0f}", ratio(o[key]["rps"], p[key]["rps"]))
        row(f"{name}, p50 / p99, 16 conn.", f"{ms(o[key]['p50_us'])} / {ms(o[key]['p99_us'])}",
            ratio(o[key]["p99_us"], o["limit"]["p99_us"]) + " (p99)",
            f"{ms(p[key]['p50_us'])} / {ms(p[key]['p99_us'])}",
            ratio(o[key]["p99_us"], p[key]["p99_us"]) + " (p99)")
        single = f"{key}_single"
        row(f"{name}, p50 / p99, 1 keep-alive conn.",
            f"{ms(o[single]['p50_us'])} / {ms(o[single]['p99_us'])}",
            ratio(o[single]["p50_us"], o["limit_single"]["p50_us"]) + " (p50)",
            f"{ms(p[single]['p50_us'])} / {ms(p[single]['p99_us'])}",
            ratio(o[single]["p50_us"], p[single]["p50_us"]) + " (p50)")
    fo, fp = f["ours"], f["peer"]
    row("Sign-ins/s under the flood (8 conn.)", f"{fo['sign_in']['rps']:,.1f}",
        ratio(fo["sign_in"]["rps"], limit), f"{fp['sign_in']['rps']:,.1f}",
        ratio(fo["sign_in"]["rps"], fp["sign_in"]["rps"]))
    for key, name in [("dashboard_alone", "`/dashboard` p99, 4 conn., no flood"),
                      ("dashboard_during_flood", "`/dashboard` p99, 4 conn., during the flood")]:
        row(name, ms(fo[key]["p99_us"]), ratio(fo[key]["p99_us"], o["limit"]["p99_us"]),
            ms(fp[key]["p99_us"]), ratio(fo[key]["p99_us"], fp[key]["p99_us"]))
    row("`/dashboard` req/s during the flood", f"{fo['dashboard_during_flood']['rps']:,.0f}",
        ratio(fo["dashboard_during_flood"]["rps"], limit),
        f"{fp['dashboard_during_flood']['rps']:,.0f}",
        ratio(fo["dashboard_during_flood"]["rps"], fp["dashboard_during_flood"]["rps"]))
    row("Peak resident memory during the flood", f"{fo['peak_rss_mib']:.0f} MiB", "–",
        f"{fp['peak_rss_mib']:.0f} MiB (all workers)", ratio(fo["peak_rss_mib"], fp["peak_rss_mib"]))
    for total in (1_000, 1_000_000):
        key = f"dashboard_{total}"
        row(f"`/dashboard` req/s with {total:,} stored sessions", f"{s[key]['rps']:,.0f}",
            ratio(s[key]["rps"], limit), "– (cookie sessions)", "–")
    w, quiet = s["dashboard_while_sweeping"], s["dashboard_1000000"]
    row("`/dashboard` p99 / max, 1,000,000 rows, no purge running",
        f"{ms(quiet['p99_us'])} / {ms(quiet['max_us'])}", "–", "–", "–")
    purge = s["purge_in_server"]
    took = f"{purge['seconds']:.1f} s" if purge["seconds"] is not None else "did not finish"
    row(f"`/dashboard` p99 / max while the server purges {purge['expired']:,} expired rows ({took})",
        f"{ms(w['p99_us'])} / {ms(w['max_us'])}", "–", "–", "–")
    for key, name in [("store", "store's `datetime()` sweep"), ("ours", "our indexed purge")]:
        sweep = s["sweep"][key]
        row(f"Deleting {sweep['deleted']:,} expired of 1,000,000: {name}",
            f"{sweep['seconds']:.2f} s, lock held ≤ {sweep['longest_lock_ms']:.0f} ms", "–", "–", "–")
    z = r["size"]
    for kind in ("wasm", "js"):
        brotli = f" / {z[kind]['brotli'] / KB:.1f} KB" if z[kind]["brotli"] else " / –"
        row(f"Release {kind}, all files, raw / gzip -9 / brotli (as served)",
            f"{z[kind]['raw'] / KB:.1f} KB / {z[kind]['gzip'] / KB:.1f} KB{brotli}",
            "–", "– (no client code)", "–")
    first_load = dict(r.get("first_load", {}))
    interactive = first_load.pop("interactive_ms_cpu4", {})
    for page, load in first_load.items():
        later = load.get("later", {"bytes": 0, "files": []})
        row(f"Fetched before `{page}` is interactive (Chromium, as sent); then, until idle",
            f"{load['bytes'] / KB:.1f} KB in {len(load['files'])} files; "
            f"{later['bytes'] / KB:.1f} KB in {len(later['files'])}", "–", "–", "–")
    for page, ms_ in interactive.items():
        row(f"`{page}` interactive in Chromium, CPU slowed 4 times (median of 5 cold loads)",
            f"{ms_:,} ms", "–", "–", "–")
    for way, name in [("cookie", "session cookie"), ("bearer", "bearer token")]:
        run = r["api_me"][way]
        row(f"`GET /api/me` by {name}, req/s and p50 / p99, 16 conn.",
            f"{run['rps']:,.0f}; {ms(run['p50_us'])} / {ms(run['p99_us'])}",
            ratio(run["rps"], limit), "–", "–")
    st = r["startup"]
    row("Process start → first answered request (median of 5)", f"{st['median_ms']:.0f} ms", "–",
        f"{r['peer_startup_ms']:.0f} ms", ratio(st["median_ms"], r["peer_startup_ms"]))

    lines += ["", "| Target | Measured | Met |", "|---|---:|:---:|"]
    for t in r["targets"]:
        lines.append(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines)


def write_report(r, table):
    m = r["machine"]
    block = (
        f"<!-- results:start (written by bench/run.sh) -->\n"
        f"Run {r['finished']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Linux {m['kernel']}; {m['rustc']}; {m['wrk']}; Python {m['python']}; "
        f"{r['seconds']} s per wrk run."
        + (f" The `GET /api/me` rows are from a later run ({r['api_me_finished']}, "
           "`bench/run.sh --only-api-me`)." if r.get("api_me_finished") else "")
        + (f" The size and first-load rows are from a later run ({r['first_load_finished']}, "
           "`bench/run.sh --only-first-load`)." if r.get("first_load_finished") else "")
        + f"\n\n{table}\n<!-- results:end -->"
    )
    text = REPORT.read_text()
    text = re.sub(r"<!-- results:start.*?<!-- results:end -->", lambda _: block, text, flags=re.S)
    REPORT.write_text(text)


# ---------------------------------------------------------------------- stores

REDIS_PORT = 3300
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
STORE_SIGN_INS = 200  # sign-ins whose growth gives the bytes per session


def redis_cli(*args):
    out = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), *args], check=True,
                         capture_output=True, text=True).stdout
    return out.strip()


def redis_info(section):
    """INFO `section` as a dict (commandstats: calls per command)."""
    info = {}
    for line in redis_cli("INFO", section).splitlines():
        if ":" in line and not line.startswith("#"):
            key, value = line.split(":", 1)
            info[key] = value
    return info


def redis_calls():
    calls = 0
    for key, value in redis_info("commandstats").items():
        if key.startswith("cmdstat_") and key not in ("cmdstat_info", "cmdstat_ping"):
            calls += int(value.split(",")[0].split("=")[1])
    return calls


def psql(database, query):
    url = POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + database
    return subprocess.run(["psql", url, "-qAtc", query], check=True, capture_output=True,
                          text=True).stdout.strip()


class ThrowawayRedis:
    """A redis-server of the bench's own (no persistence), stoppable for the
    outage figure."""

    def __init__(self, workdir):
        self.workdir, self.process = workdir, None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                if redis_cli("PING") == "PONG":
                    return
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process:
            self.process.kill()
            self.process.wait()
            self.process = None


def dashboard_median(port, cookies, seconds, rounds=3):
    """The median of `rounds` runs, and how many requests they made in all."""
    script = rotating_cookies(cookies, "/dashboard")
    runs = [wrk(port, "/dashboard", seconds, 16, script) for _ in range(rounds)]
    return median_run(runs, "rps"), sum(run["requests"] for run in runs)


def stores_figures(workdir, python, seconds):
    """`/dashboard` with the sessions in SQLite, PostgreSQL and Redis, and the
    Flask peer with Flask-Session in Redis (the origin's method 3), in one run;
    what a session costs each store; the 503s of a Redis outage."""
    database = f"pl_bench_{secrets.token_hex(6)}"
    psql("postgres", f"CREATE DATABASE {database}")
    postgres_url = POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + database
    redis = ThrowawayRedis(workdir)
    redis.start()
    figures = {}
    try:
        configurations = [
            ("sqlite", {}),
            ("postgresql", {"DATABASE_URL": postgres_url}),
            ("redis", {"DATABASE_URL": postgres_url, "SESSION_STORE": "redis",
                       "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}"}),
        ]
        for name, env in configurations:
            log(f"stores: /dashboard with the sessions in {name}")
            if name != "sqlite":
                psql(database, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            redis_cli("FLUSHALL")
            server = ours(workdir, workdir / f"stores-{name}.db", env)
            server.start()
            try:
                cookies = bench_sessions()
                check_signed_in(OURS_PORT, cookies)
                result = {}
                # What a sign-in costs the store, and what a session takes in it.
                if name == "redis":
                    calls, memory = redis_calls(), int(redis_info("memory")["used_memory"])
                if name == "postgresql":
                    commits = int(psql(database, "SELECT xact_commit FROM pg_stat_database "
                                                  "WHERE datname = current_database()"))
                    size = int(psql(database, "SELECT pg_total_relation_size('tower_sessions') "
                                              "+ pg_total_relation_size('user_sessions')"))
                for _ in range(STORE_SIGN_INS):
                    sign_in_ours(OURS_PORT, 0)
                if name == "redis":
                    result["commands_per_sign_in"] = (redis_calls() - calls) / STORE_SIGN_INS
                    result["bytes_per_session"] = (
                        int(redis_info("memory")["used_memory"]) - memory) / STORE_SIGN_INS
                if name == "postgresql":
                    result["transactions_per_sign_in"] = (int(psql(
                        database, "SELECT xact_commit FROM pg_stat_database "
                                  "WHERE datname = current_database()")) - commits) / STORE_SIGN_INS
                    result["bytes_per_session"] = (int(psql(
                        database, "SELECT pg_total_relation_size('tower_sessions') "
                                  "+ pg_total_relation_size('user_sessions')")) - size) / STORE_SIGN_INS
                if name == "redis":
                    calls = redis_calls()
                result["dashboard"], served = dashboard_median(OURS_PORT, cookies, seconds)
                if name == "redis":
                    result["commands_per_page"] = (redis_calls() - calls) / served
                    log("stores: a Redis outage under /dashboard")
                    redis.stop()
                    time.sleep(0.5)
                    # The first request meets the outage and waits for the connection
                    # timeout; the figure is the steady answer after it.
                    call(OURS_PORT, "GET", "/dashboard", headers={"Cookie": cookies[0]})
                    outage = wrk(OURS_PORT, "/dashboard", max(3, seconds // 2), 4,
                                 rotating_cookies(cookies, "/dashboard"))
                    result["outage"] = outage
                    redis.start()
                figures[name] = result
            finally:
                server.stop()
                if redis.process is None:
                    redis.start()

        log("stores: the Flask peer with Flask-Session in Redis (gunicorn)")
        redis_cli("FLUSHALL")
        peer_db = workdir / "peer-redis.db"
        peer_users(python, peer_db, SESSIONS)
        flask = peer(workdir, python, peer_db, workers=os.cpu_count() or 1,
                     extra_env={"PEER_REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}"})
        flask.start()
        try:
            peer_cookies = [sign_in_peer(PEER_PORT, n) for n in range(SESSIONS)]
            check_signed_in(PEER_PORT, peer_cookies)
            keys = redis_cli("--scan", "--pattern", "session:*").split()
            if len(keys) < SESSIONS:
                raise RuntimeError(f"the peer kept {len(keys)} sessions in Redis")
            figures["peer_redis"] = {"dashboard": dashboard_median(PEER_PORT, peer_cookies, seconds)[0]}
        finally:
            flask.stop()
    finally:
        redis.stop()
        psql("postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return figures


def stores_markdown(f):
    rps = lambda name: f[name]["dashboard"]["rps"]  # noqa: E731
    runs = lambda name: " / ".join(f"{r:,.0f}" for r in f[name]["dashboard"]["rps_runs"])  # noqa: E731
    outage = f["redis"]["outage"]
    lines = [
        "| Signed-in `/dashboard`, 16 connections | req/s (median of 3) | the 3 runs | p99 |",
        "|---|---:|---:|---:|",
    ]
    for name, label in [("sqlite", "ours, sessions in SQLite"),
                        ("postgresql", "ours, sessions in PostgreSQL"),
                        ("redis", "ours, sessions in Redis (users in PostgreSQL)"),
                        ("peer_redis", "Flask + Flask-Session in Redis, gunicorn (origin method 3)")]:
        lines.append(f"| {label} | {rps(name):,.0f} | {runs(name)} "
                     f"| {ms(f[name]['dashboard']['p99_us'])} |")
    lines += [
        "",
        "| Target (#12) | Measured | Met |",
        "|---|---:|:---:|",
        f"| Redis `/dashboard` ≥ 4× the Flask + Redis peer | {rps('redis') / rps('peer_redis'):.1f}× "
        f"| {'yes' if rps('redis') >= 4 * rps('peer_redis') else 'no'} |",
        f"| Redis `/dashboard` ≥ 60 % of SQLite | {100 * rps('redis') / rps('sqlite'):.0f} % "
        f"| {'yes' if rps('redis') >= 0.6 * rps('sqlite') else 'no'} |",
        f"| A session read is one Redis round trip | {f['redis']['commands_per_page']:.2f} "
        f"commands per page view | {'yes' if f['redis']['commands_per_page'] <= 1.05 else 'no'} |",
        f"| An outage answers its 503 in under 100 ms | p99 {ms(outage['p99_us'])}, "
        f"max {ms(outage['max_us'])} ({outage['http_errors']:,} answers, all 503) "
        f"| {'yes' if outage['p99_us'] < 100_000 else 'no'} |",
        "",
        "| Per signed-in session | SQLite | PostgreSQL | Redis |",
        "|---|---:|---:|---:|",
        f"| Bytes stored (growth over {STORE_SIGN_INS} sign-ins, record + index) | – "
        f"| {f['postgresql']['bytes_per_session']:,.0f} | {f['redis']['bytes_per_session']:,.0f} |",
        f"| Store work per sign-in | – | {f['postgresql']['transactions_per_sign_in']:.1f} "
        f"transactions (throttle, user, device, session) "
        f"| {f['redis']['commands_per_sign_in']:.1f} commands |",
    ]
    return "\n".join(lines)


def write_stores_report(figures, finished):
    write_block("stores", stores_markdown(figures), finished,
                "Session stores: SQLite, PostgreSQL, Redis (#12)")


# -------------------------------------------------------------------- compare


COMPARED = [
    ("login_page", "anonymous `/login`"),
    ("dashboard", "`/dashboard` (SQLite)"),
    ("bearer", "`GET /api/me` by bearer token (SQLite)"),
    ("dashboard_postgresql", "`/dashboard`, sessions in PostgreSQL"),
    ("dashboard_redis", "`/dashboard`, sessions in Redis"),
]


def compare_figures(workdir, baseline, seconds, rounds=3):
    """This build beside `baseline` (another build of ours, such as the commit
    before a change), in one run: the two take turns, round after round, so
    a drift of the machine falls on both. Per build and figure, the median
    req/s under 16 connections."""
    database = f"pl_bench_{secrets.token_hex(6)}"
    psql("postgres", f"CREATE DATABASE {database}")
    postgres_url = POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + database
    redis = ThrowawayRedis(workdir)
    redis.start()
    stores = [
        ("sqlite", {}),
        ("postgresql", {"DATABASE_URL": postgres_url}),
        ("redis", {"DATABASE_URL": postgres_url, "SESSION_STORE": "redis",
                   "SESSION_REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}"}),
    ]
    builds = [("this build", BINARY), ("baseline", Path(baseline))]
    runs = {(build, figure): [] for build, _ in builds for figure, _ in COMPARED}
    try:
        for round_ in range(rounds):
            for build, binary in (builds if round_ % 2 == 0 else builds[::-1]):
                for store, env in stores:
                    log(f"compare: round {round_ + 1}, {build}, {store}")
                    psql(database, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                    redis_cli("FLUSHALL")
                    server = ours(workdir, workdir / f"compare-{round_}-{store}-{len(build)}.db",
                                  env, binary=binary)
                    server.start()
                    try:
                        cookies = bench_sessions()
                        check_signed_in(OURS_PORT, cookies)
                        dashboard = rotating_cookies(cookies, "/dashboard")
                        if store != "sqlite":
                            runs[(build, f"dashboard_{store}")].append(
                                wrk(OURS_PORT, "/dashboard", seconds, 16, dashboard))
                            continue
                        tokens = [token_for_ours(OURS_PORT, n) for n in range(SESSIONS)]
                        bearer = rotating_headers(
                            "Authorization", [f"Bearer {t}" for t in tokens], "/api/me")
                        runs[(build, "login_page")].append(wrk(OURS_PORT, "/login", seconds, 16))
                        runs[(build, "dashboard")].append(
                            wrk(OURS_PORT, "/dashboard", seconds, 16, dashboard))
                        runs[(build, "bearer")].append(
                            wrk(OURS_PORT, "/api/me", seconds, 16, bearer))
                    finally:
                        server.stop()
    finally:
        redis.stop()
        psql("postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return {build: {figure: median_run(runs[(build, figure)], "rps") for figure, _ in COMPARED}
            for build, _ in builds}


# ------------------------------------------------------------------ rotation

DEFAULT_ROTATION_INTERVAL = "600"  # session.rotation_interval_secs's default
ROTATION_SETTINGS = [("off", "0"), ("default (600 s)", DEFAULT_ROTATION_INTERVAL),
                     ("every second", "1")]


def browsers_following_cookies(cookies, path):
    """A wrk script in which each thread is one browser with one connection:
    it sends its session cookie and takes the new one from `Set-Cookie`, as a
    browser does when its session id is rotated."""
    quoted = ", ".join(json.dumps(cookie) for cookie in cookies)
    return (
        f"local cookies = {{{quoted}}}\nlocal started = 0\n"
        "setup = function(thread)\n  started = started + 1\n"
        "  thread:set('cookie', cookies[(started - 1) % #cookies + 1])\nend\n"
        f'request = function()\n  return wrk.format("GET", "{path}", {{["Cookie"] = cookie}})\nend\n'
        "response = function(status, headers, body)\n"
        "  local set = headers['Set-Cookie'] or headers['set-cookie']\n"
        "  if set then\n    local pair = set:match('^(session=[^;]+)')\n"
        "    if pair then cookie = pair end\n  end\nend\n"
    )


FLOOR_SETTINGS = [
    ("plain axum + tower-sessions, read only", "0"),
    ("plain axum + tower-sessions, always_save", "1"),
]
# Ours beside the plain page: the default rotation, measured as the plain
# page is (the request-only script), on the same server as its row above.
OURS_BESIDE_FLOOR = "ours, rotation default (600 s)"


def floor_server(workdir, database, always_save):
    env = dict(os.environ)
    env.update({"FLOOR_PORT": str(PEER_PORT), "FLOOR_DATABASE": str(database),
                "FLOOR_ALWAYS_SAVE": always_save})
    return Server("floor", [str(FLOOR_BINARY)], env, PEER_PORT, workdir)


def floor_sessions(port):
    """Signs each bench user in to the plain page: their cookies."""
    cookies = []
    for n in range(SESSIONS):
        status, headers, body = call(port, "POST", "/login",
                                     form({"username": f"bench{n}", "remember": "on"}),
                                     FORM_HEADERS)
        if status != 303:
            raise RuntimeError(f"floor sign-in bench{n}: {status} {body}")
        cookies.append(session_cookie(headers))
    return cookies


def rotation_figures(workdir, seconds, rounds=3):
    """`/dashboard` req/s with rotation off, at the default interval and every
    second, 16 browsers that follow `Set-Cookie` (one wrk thread and
    connection each); then, beside the same page from plain axum +
    tower-sessions (bench/page-floor, reading its session only, and writing
    it back on every request), ours at the default interval measured as that
    page is: 16 connections of one wrk thread sending the 16 cookies in turn,
    with no script reading the answers (wrk's Lua copies every answer's
    headers and body, which on two shared cores weighs on the larger page).
    They take turns for `rounds` rounds and keep their median run. After each
    of ours every browser's session must still be the one live session of
    its user: a rotation that signed anyone out would show here."""
    names = [name for name, _ in ROTATION_SETTINGS + FLOOR_SETTINGS] + [OURS_BESIDE_FLOOR]
    runs = {name: [] for name in names}
    for round_ in range(rounds):
        for name, interval in ROTATION_SETTINGS:
            log(f"rotation: round {round_ + 1}, {name}")
            database = workdir / f"rotation-{round_}-{interval}.db"
            server = ours(workdir, database, {"SESSION_ROTATION_INTERVAL_SECS": interval})
            server.start()
            try:
                cookies = bench_sessions()
                check_signed_in(OURS_PORT, cookies)
                script = browsers_following_cookies(cookies, "/dashboard")
                runs[name].append(wrk(OURS_PORT, "/dashboard", seconds, SESSIONS, script,
                                      threads=SESSIONS))
                if interval == DEFAULT_ROTATION_INTERVAL:
                    log(f"rotation: round {round_ + 1}, {OURS_BESIDE_FLOOR}, as the plain page")
                    runs[OURS_BESIDE_FLOOR].append(wrk(
                        OURS_PORT, "/dashboard", seconds, SESSIONS,
                        rotating_cookies(cookies, "/dashboard")))
            finally:
                server.stop()
            with sqlite3.connect(database) as db:
                live = db.execute("SELECT count(DISTINCT user_id) FROM user_sessions").fetchone()[0]
                retired = db.execute("SELECT count(*) FROM retired_session_ids").fetchone()[0]
            runs[name][-1]["users_signed_in"] = live
            runs[name][-1]["ids_retired"] = retired
        for name, always_save in FLOOR_SETTINGS:
            log(f"rotation: round {round_ + 1}, {name}")
            server = floor_server(workdir, workdir / f"floor-{round_}-{always_save}.db",
                                  always_save)
            server.start()
            try:
                cookies = floor_sessions(PEER_PORT)
                check_signed_in(PEER_PORT, cookies)
                runs[name].append(wrk(PEER_PORT, "/dashboard", seconds, SESSIONS,
                                      rotating_cookies(cookies, "/dashboard")))
            finally:
                server.stop()
    return {name: median_run(runs[name], "rps") for name in names}


def rotation_markdown(f):
    off = f["off"]["rps"]
    lines = [
        "| Session id rotation | `/dashboard` req/s (16 browsers following `Set-Cookie`, median of 3) "
        "| vs off (target: the default costs ≤ 3 %) | p99 | Ids retired in the run | "
        "Users still signed in (of 16) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, _ in ROTATION_SETTINGS:
        r = f[name]
        lines.append(f"| {name} | {r['rps']:,.0f} | {r['rps'] / off:.2f}× | {ms(r['p99_us'])} "
                     f"| {r['ids_retired']:,} | {r['users_signed_in']} |")
    floor = f[FLOOR_SETTINGS[0][0]]["rps"]
    lines += [
        "",
        "| The signed-in `/dashboard` beside the stack's own limit | req/s (16 connections, "
        "cookies in turn, median of 3) | share of the plain page, read only (target: ours ≥ 80 %) "
        "| p99 | bytes per answer |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in [OURS_BESIDE_FLOOR] + [name for name, _ in FLOOR_SETTINGS]:
        r = f[name]
        size = r["bytes"] / r["requests"] if r.get("requests") else 0
        lines.append(f"| {name} | {r['rps']:,.0f} | {r['rps'] / floor:.0%} | {ms(r['p99_us'])} "
                     f"| {size:,.0f} |")
    return "\n".join(lines)


# ------------------------------------------------------------ connection slots

HALF_A_REQUEST = b"GET /login HTTP/1.1\r\nHo"
SLOTS_ATTACK_CONNECTIONS = 1100  # more than server.max_connections (1024)


def slots_attack(port, sources, connections, seconds, opened):
    """In its own process: `connections` connections spread over the source
    addresses, each sending half a request line and opened again as soon as
    the server closes it (issue #21's attack). Counts the connections opened
    into `opened` (a multiprocessing.Value)."""
    import asyncio

    async def one(source, deadline):
        while time.monotonic() < deadline:
            writer = None
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(source, 0))
                with opened.get_lock():
                    opened.value += 1
                writer.write(HALF_A_REQUEST)
                await asyncio.wait_for(reader.read(), max(0.01, deadline - time.monotonic()))
            except (OSError, asyncio.TimeoutError):
                await asyncio.sleep(0.01)  # out of ports, say
            finally:
                if writer is not None:
                    writer.close()

    async def everyone():
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(one(sources[i % len(sources)], deadline)
                               for i in range(connections)))

    asyncio.run(everyone())


def visitor_pages(port, seconds, source="127.0.0.2"):
    """A visitor from another address loads /login again and again, each time
    on a new connection, for `seconds`; the latencies (ms) and failures."""
    latencies, failures = [], []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=30, source_address=(source, 0))
            connection.request("GET", "/login")
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != 200:
                failures.append(f"HTTP {response.status}")
                continue
        except (OSError, http.client.HTTPException) as error:
            failures.append(type(error).__name__)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.2)  # a person, not a load generator
    return latencies, failures


def latency_summary(latencies, failures):
    ordered = sorted(latencies) or [float("nan")]
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"pages": len(latencies), "failures": len(failures),
            "failure_kinds": sorted(set(failures)), "p50_ms": pick(0.50),
            "p99_ms": pick(0.99), "max_ms": ordered[-1]}


def slots_figures(workdir, seconds):
    """The visitor alone, then beside 1,100 half-sent connections from one
    address, then from 20 addresses (together past every slot), all on the
    release build with its defaults."""
    import multiprocessing

    server = ours(workdir, workdir / "slots.db")
    server.start()
    figures = {}
    try:
        figures["alone"] = latency_summary(*visitor_pages(OURS_PORT, seconds))
        for name, sources in [
            ("one_address", ["127.0.0.1"]),
            ("twenty_addresses", [f"127.0.1.{n}" for n in range(1, 21)]),
        ]:
            log(f"connection slots: the visitor beside {SLOTS_ATTACK_CONNECTIONS} half-sent "
                f"connections from {len(sources)} address(es)")
            opened = multiprocessing.Value("l", 0)
            attacker = multiprocessing.Process(
                target=slots_attack,
                args=(OURS_PORT, sources, SLOTS_ATTACK_CONNECTIONS, seconds + 4, opened))
            attacker.start()
            time.sleep(2)  # every slot it can get is taken
            result = latency_summary(*visitor_pages(OURS_PORT, seconds))
            attacker.join()
            result["attacker_connections_per_s"] = opened.value / (seconds + 4)
            figures[name] = result
    finally:
        server.stop()
    return figures


def slots_markdown(f):
    alone = f["alone"]
    lines = [
        "| The visitor (`GET /login`, a new connection each, from 127.0.0.2) | Pages | "
        "Failed | p50 | p99 | Slowest | p99 vs alone (target ≤ 3×) | Slowest under 1 s "
        "| Attacker's connections opened per s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = {
        "alone": "alone",
        "one_address": f"beside {SLOTS_ATTACK_CONNECTIONS:,} half-sent connections from one address",
        "twenty_addresses": f"beside {SLOTS_ATTACK_CONNECTIONS:,} half-sent connections from 20 "
                            "addresses (past every slot)",
    }
    for key, name in names.items():
        r = f[key]
        versus = "" if key == "alone" else f"{r['p99_ms'] / alone['p99_ms']:.1f}×"
        under = "yes" if r["max_ms"] < 1000 and not r["failures"] else "**no**"
        rate = "" if key == "alone" else f"{r['attacker_connections_per_s']:,.0f}"
        failed = f"{r['failures']}" + (f" ({', '.join(r['failure_kinds'])})" if r["failures"] else "")
        lines.append(f"| {name} | {r['pages']} | {failed} | {r['p50_ms']:.1f} ms "
                     f"| {r['p99_ms']:.1f} ms | {r['max_ms']:.1f} ms | {versus} | {under} | {rate} |")
    return "\n".join(lines)


def compare_markdown(f, baseline_name):
    lines = [
        f"| Figure (req/s, 16 connections, median) | This build | Baseline ({baseline_name}) "
        "| Ratio | This build's runs | The baseline's runs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    runs = lambda figure: " / ".join(f"{rps:,.0f}" for rps in figure["rps_runs"])
    for figure, label in COMPARED:
        new, old = f["this build"][figure], f["baseline"][figure]
        lines.append(f"| {label} | {new['rps']:,.0f} | {old['rps']:,.0f} "
                     f"| {new['rps'] / old['rps']:.2f}× | {runs(new)} | {runs(old)} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------- main


def measure_one_block(key, figures_of, markdown_of, heading, args):
    """One part of the bench alone (`--only-rotation`, `--only-slots`): its
    figures go into bench/results.json under `key` and its table into
    BENCHMARKS.md between the `key` markers."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    figures = figures_of(workdir, args.seconds)
    table = markdown_of(figures)
    results = json.loads(RESULTS.read_text())
    results[key] = figures
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    if not args.no_report:
        write_block(key, table, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), heading)
    shutil.rmtree(workdir, ignore_errors=True)
    print(table)


# The parts measured alone the same way: flag, key, figures, table, heading.
ONLY_BLOCKS = [
    ("only_rotation", "rotation", rotation_figures, rotation_markdown,
     "Session id rotation (`bench/run.sh --only-rotation`)"),
    ("only_slots", "slots", slots_figures, slots_markdown,
     "Connection slots under attack (`bench/run.sh --only-slots`)"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--python", required=True, help="the peer venv's python")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite BENCHMARKS.md")
    parser.add_argument("--only-api-me", action="store_true",
                        help="measure only GET /api/me by cookie and by bearer token again, "
                             "into the last full run's results (about 2 minutes)")
    parser.add_argument("--only-first-load", action="store_true",
                        help="measure only the wasm and JS sizes and the bytes fetched before "
                             "each page is interactive, into the last full run's results "
                             "(about 1 minute)")
    parser.add_argument("--only-stores", action="store_true",
                        help="measure only the session stores (SQLite, PostgreSQL, Redis) and "
                             "the Flask + Redis peer (about 5 minutes)")
    parser.add_argument("--only-fairness", action="store_true",
                        help="measure only the hashing-priority comparison (about 8 minutes)")
    parser.add_argument("--compare-with", metavar="BINARY",
                        help="measure only /login, /dashboard (SQLite, PostgreSQL, Redis) and "
                             "GET /api/me by bearer token for this build and BINARY (another "
                             "build of ours), taking turns in one run (about 10 minutes)")
    parser.add_argument("--only-rotation", action="store_true",
                        help="measure only /dashboard with session id rotation off, at the "
                             "default interval and every second (about 3 minutes)")
    parser.add_argument("--only-slots", action="store_true",
                        help="measure only the visitor beside issue #21's connection attack "
                             "(about 1 minute)")
    parser.add_argument("--baseline-name", default="baseline",
                        help="what to call the --compare-with build in the report")
    args = parser.parse_args()
    if not BINARY.exists():
        sys.exit(f"bench: {BINARY} missing; run bench/run.sh")
    if args.only_api_me or args.only_first_load:
        results = json.loads(RESULTS.read_text())
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        server = ours(workdir, workdir / "ours.db")
        server.start()
        try:
            if args.only_api_me:
                cookies = bench_sessions()
                tokens = [token_for_ours(OURS_PORT, n) for n in range(SESSIONS)]
                results["api_me"] = api_me_figures(OURS_PORT, cookies, tokens, args.seconds)
                finished = "api_me_finished"
            else:
                # first_load.mjs signs the user in itself: only the accounts.
                sign_up_ours(OURS_PORT, SESSIONS)
                results["size"] = size_figures()
                results["first_load"] = first_load_figures(OURS_PORT)
                finished = "first_load_finished"
        finally:
            server.stop()
        results[finished] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        results["targets"] = targets(results)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        table = markdown(results)
        if not args.no_report:
            write_report(results, table)
        shutil.rmtree(workdir, ignore_errors=True)
        print(table)
        return
    if args.compare_with:
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        figures = compare_figures(workdir, args.compare_with, args.seconds)
        table = compare_markdown(figures, args.baseline_name)
        if not args.no_report:
            write_block("compare", table,
                        datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                        "This build beside a baseline (`bench/run.sh --compare-with`)")
        shutil.rmtree(workdir, ignore_errors=True)
        print(table)
        return
    if args.only_stores:
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        figures = stores_figures(workdir, args.python, args.seconds)
        finished = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        results = json.loads(RESULTS.read_text())
        results["stores"], results["stores_finished"] = figures, finished
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        if not args.no_report:
            write_stores_report(figures, finished)
        shutil.rmtree(workdir, ignore_errors=True)
        print(stores_markdown(figures))
        return
    for flag, key, figures_of, markdown_of, heading in ONLY_BLOCKS:
        if getattr(args, flag):
            measure_one_block(key, figures_of, markdown_of, heading, args)
            return
    if args.only_fairness:
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        figures = fairness_figures(workdir, args.seconds)
        if not args.no_report:
            write_fairness_report(figures, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        shutil.rmtree(workdir, ignore_errors=True)
        print(fairness_markdown(figures))
        return

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    results = {"machine": machine(), "seconds": args.seconds}
    servers = []
    try:
        log("start-up")
        results["startup"] = startup_figures(workdir)
        results["size"] = size_figures()

        log("our server: limit, /login, /dashboard")
        server = ours(workdir, workdir / "ours.db")
        servers.append(server)
        server.start()
        cookies = bench_sessions()
        check_signed_in(OURS_PORT, cookies)
        results["ours"] = web_figures(OURS_PORT, cookies, args.seconds, "/login")
        log("our server: GET /api/me by cookie and by bearer token")
        tokens = [token_for_ours(OURS_PORT, n) for n in range(SESSIONS)]
        results["api_me"] = api_me_figures(OURS_PORT, cookies, tokens, args.seconds)
        log("our server: bytes before each page is interactive, in Chromium")
        results["first_load"] = first_load_figures(OURS_PORT)

        log("the Flask peer: limit, /login, /dashboard")
        peer_db = workdir / "peer.db"
        peer_users(args.python, peer_db, SESSIONS)
        flask = peer(workdir, args.python, peer_db, workers=os.cpu_count() or 1)
        servers.append(flask)
        results["peer_startup_ms"] = flask.start() * 1000
        peer_cookies = [sign_in_peer(PEER_PORT, n) for n in range(SESSIONS)]
        check_signed_in(PEER_PORT, peer_cookies)
        results["peer"] = web_figures(PEER_PORT, peer_cookies, args.seconds, "/login")

        log("sign-in flood: ours, then the peer")
        results["flood"] = {
            "ours": flood_figures(server, OURS_PORT, cookies, args.seconds, "/api/login",
                                  {"remember": "on"}, SESSIONS),
            "peer": flood_figures(flask, PEER_PORT, peer_cookies, args.seconds, "/login", {},
                                  SESSIONS),
        }
        for s in servers:
            s.stop()

        log("scale: 1,000 and 1,000,000 stored sessions, and the purge")
        results["scale"] = scale_figures(workdir, args.seconds)

        results["fairness"] = fairness_figures(workdir, args.seconds)

        results["stores"] = stores_figures(workdir, args.python, args.seconds)

        results["slots"] = slots_figures(workdir, args.seconds)

        results["rotation"] = rotation_figures(workdir, args.seconds)
    finally:
        for s in servers:
            s.stop()
    results["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results["targets"] = targets(results)
    table = markdown(results)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    if not args.no_report:
        write_report(results, table)
        write_fairness_report(results["fairness"], results["finished"])
        write_stores_report(results["stores"], results["finished"])
        write_block("slots", slots_markdown(results["slots"]), results["finished"],
                    "Connection slots under attack (`bench/run.sh --only-slots`)")
        write_block("rotation", rotation_markdown(results["rotation"]), results["finished"],
                    "Session id rotation (`bench/run.sh --only-rotation`)")
    shutil.rmtree(workdir, ignore_errors=True)
    print(table)
    missed = [t["target"] for t in results["targets"] if not t["met"]]
    if missed:
        log("targets missed: " + "; ".join(missed))


if __name__ == "__main__":
    main()
