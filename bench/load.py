"""Load on ``shouwang serve``: list pages, the API's 200-row pages and name search, over loopback.

    .venv/bin/python bench/load.py                              # fresh SQLite demo in a temporary folder
    .venv/bin/python bench/load.py --var-dir var/bench-load     # build the demo once, reuse it after
    .venv/bin/python bench/load.py --var-dir var/bench-load-pg \
        --database-url postgres://postgres@127.0.0.1:5432/shouwang_bench_load

A PostgreSQL database is created when missing, and dropped and created again when the var
folder is new (it holds the key the database's personal data is encrypted with).

Prepares a var folder the way an installation does (``shouwang migrate``, ``shouwang demo
--if-empty``), starts ``shouwang serve`` on a free loopback port (the command's own gunicorn
settings and its background worker, production settings), signs in as the demo's village
cadre, township and district users (the page login for pages, the token endpoint for the
API), then drives one group of requests after another, each for a fixed time with a fixed
number of virtual users, every user waiting for its answer before its next request (closed
loop). Groups:

- ``list``: 农户档案 (its first page and a random later one) and the first pages of
  识别消除, 线索, 预警 and 精准帮扶;
- ``api``: ``/api/households/?page_size=200`` at a random page of the user's area;
- ``search``: the household list searched by a surname, a given name or a full name taken
  from the user's own households.

For each group it prints req/s, p50/p95/p99/max and errors (any answer but 200, or a request
failing), the same per page kind, the CPU seconds the server and the client spent, and at
the end each server process's peak RSS (``VmHWM`` in ``/proc/<pid>/status``: the gunicorn
master, each worker, the task worker). Targets: list ≥ 150 req/s, p95 < 300 ms in every group.

The client is urllib3 (installed with the test extra, under requests): one connection pool
per virtual user on its own thread, so each user keeps its keep-alive connection and its own
session cookie as a browser does, over a real HTTP/1.1 stack rather than Django's test
client. It was chosen over httpx (on the local index, not installed) because the client
shares the two cores with the server: for the same 50 KB answer urllib3 spends 0.33 ms of
CPU a request and httpx 0.96 ms, and at 150 requests a second that difference is a tenth of
a core taken from the server. Threads rather than asyncio keep each user's loop plain code;
a user waits on its socket most of the time, so the GIL is not what limits the client.

Bounded and local: only loopback hosts are accepted (for the server and the database),
every group stops after its duration (at most ten minutes), at most 64 virtual users, and
the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import urllib3

BIN = Path(sys.executable).parent
DEMO_PASSWORD = "shouwang-demo"
#: (user name, what the printout calls them)
USERS = (
    ("demo-village", "village"),
    ("demo-township", "township"),
    ("demo-district", "district"),
)
LIST_PAGES = (
    ("households", "/households/"),
    ("households, later page", "/households/?page={page}"),
    ("cases", "/cases/"),
    ("leads", "/leads/"),
    ("alerts", "/screening/alerts/"),
    ("assistance", "/assistance/"),
)
GROUPS = ("list", "api", "search")
#: Rows on a list page (settings.SHOUWANG_PAGE_SIZE).
LIST_PAGE_SIZE = 25
TARGET_LIST_RPS = 150.0
TARGET_P95_MS = 300.0
MAX_DURATION_S = 600.0
MAX_CONCURRENCY = 64
REQUEST_TIMEOUT_S = 30.0


# ---------------------------------------------------------------------------------------------
# Where the server runs


def loopback_host(host: str) -> str:
    """``host`` if every address it names is loopback; SystemExit otherwise."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise SystemExit(f"cannot resolve {host!r}: {exc}") from None
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise SystemExit(f"refused: {host!r} is not a loopback address ({', '.join(addresses)})")
    return host


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def scratch_database(url: str) -> str:
    """The database name of ``url`` if it is a scratch one on this machine; SystemExit otherwise."""
    parts = urlsplit(url)
    if parts.hostname:  # the server's queries are load too: the database must be local
        loopback_host(parts.hostname)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"the PostgreSQL database name must contain 'bench' (got {name!r})")
    return name


def ensure_postgres_database(url: str, *, rebuild: bool) -> None:
    """Create the scratch database; drop it first on rebuild."""
    import psycopg
    from psycopg import sql

    name = scratch_database(url)
    admin = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and rebuild:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_environment(*, var_dir: Path, database_url: str, host: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SHOUWANG_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env["SHOUWANG_VAR_DIR"] = str(var_dir)
    env["SHOUWANG_ALLOWED_HOSTS"] = f"{host},127.0.0.1,localhost"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def prepare(*, env: dict[str, str], log: Path) -> None:
    """``shouwang migrate`` and ``shouwang demo --if-empty``, as an installation runs them."""
    shouwang = str(BIN / "shouwang")
    with log.open("a") as out:
        for argv in ([shouwang, "migrate", "-v", "0"], [shouwang, "demo", "--if-empty"]):
            started = time.monotonic()
            done = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)  # noqa: S603
            if done.returncode:
                raise SystemExit(f"{' '.join(argv[1:])} failed, see {log}")
            print(f"  {' '.join(argv[1:]):<22} {time.monotonic() - started:6.1f} s", flush=True)


@dataclass
class Server:
    process: subprocess.Popen
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return (
            f"http://[{self.host}]:{self.port}"
            if ":" in self.host
            else f"http://{self.host}:{self.port}"
        )

    def stop(self) -> None:
        """End the serve command's process group (gunicorn and the task worker), and only it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def serve(
    *, env: dict[str, str], host: str, port: int, workers: int, threads: int, log: Path
) -> Server:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [str(BIN / "shouwang"), "serve", "--bind", bind]
    if workers:
        argv += ["--workers", str(workers)]
    if threads:
        argv += ["--threads", str(threads)]
    out = log.open("a")
    # Its own session, so stopping it ends gunicorn and the task worker it started, nothing else.
    process = subprocess.Popen(  # noqa: S603
        argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = Server(process=process, host=host, port=port)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"shouwang serve exited with {process.returncode}, see {log}")
        try:
            if Browser(server).get("/login/") == 200:
                return server
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    raise SystemExit(f"shouwang serve did not answer within 90 s, see {log}")


# ---------------------------------------------------------------------------------------------
# The server's processes


def _proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _proc_status(int(entry.name)).get("PPid", "").strip() == str(
            pid
        ):
            found.append(int(entry.name))
    return sorted(found)


def _kind(pid: int, master: int) -> str:
    if pid == master:
        return "gunicorn master"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    return (
        "task worker" if " worker" in cmdline and "gunicorn" not in cmdline else "gunicorn worker"
    )


@dataclass
class ProcessWatch:
    """Samples the server's processes: peak RSS (VmHWM) and CPU seconds, per process."""

    master: int
    peak_kib: dict[int, int] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        for pid in [self.master, *_children(self.master)]:
            status = _proc_status(pid)
            if "VmHWM" not in status:
                continue
            self.kinds.setdefault(pid, _kind(pid, self.master))
            peak = int(status["VmHWM"].split()[0])
            self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), peak)
            self.cpu[pid] = _cpu_seconds(pid)

    def wait_idle(self, *, kind: str, timeout: float) -> float:
        """Wait until the ``kind`` processes have used under 5 % of a core for three seconds
        in a row (a fresh demo's task worker first runs the month's screening); the seconds
        waited."""
        started = time.monotonic()
        idle_seconds = 0
        while idle_seconds < 3 and time.monotonic() - started < timeout:
            self.sample()
            before = sum(c for pid, c in self.cpu.items() if self.kinds.get(pid) == kind)
            time.sleep(1.0)
            self.sample()
            after = sum(c for pid, c in self.cpu.items() if self.kinds.get(pid) == kind)
            idle_seconds = idle_seconds + 1 if after - before < 0.05 else 0
        return time.monotonic() - started

    def server_cpu(self) -> float:
        self.sample()
        return sum(self.cpu.values())

    def run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def start(self) -> None:
        threading.Thread(target=self.run, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.sample()


# ---------------------------------------------------------------------------------------------
# Signed-in users and what they request


class Browser:
    """One user's connection (kept alive) and cookies, as a browser holds them."""

    def __init__(self, server: Server) -> None:
        self.pool = urllib3.HTTPConnectionPool(
            server.host,
            server.port,
            maxsize=1,
            block=True,
            timeout=urllib3.Timeout(total=REQUEST_TIMEOUT_S),
            retries=False,
        )
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs
    ) -> urllib3.BaseHTTPResponse:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.pool.request(method, path, headers=headers, redirect=False, **kwargs)
        for raw in response.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(raw).items():
                self.cookies[name] = morsel.value
        return response

    def get(self, path: str, headers: dict[str, str] | None = None) -> int:
        """The status of a GET (its body is read in full, as a browser would)."""
        return self.request("GET", path, headers=headers).status

    def close(self) -> None:
        self.pool.close()


def signed_in_browser(server: Server, username: str) -> Browser:
    """A browser signed in through the page login, with its session and CSRF cookies."""
    browser = Browser(server)
    if browser.get("/login/") != 200 or "csrftoken" not in browser.cookies:
        raise SystemExit(f"the login page answered {browser.get('/login/')} without a CSRF cookie")
    response = browser.request(
        "POST",
        "/login/",
        body=urlencode(
            {
                "username": username,
                "password": DEMO_PASSWORD,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            }
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if response.status != 302 or "sessionid" not in browser.cookies:
        raise SystemExit(f"sign-in as {username} failed ({response.status})")
    return browser


def api_get(server: Server, path: str, token: str) -> dict:
    browser = Browser(server)
    response = browser.request("GET", path, headers={"Authorization": f"Token {token}"})
    browser.close()
    if response.status != 200:
        raise SystemExit(f"{path} answered {response.status}")
    return response.json()


def api_token(server: Server, username: str) -> str:
    browser = Browser(server)
    response = browser.request(
        "POST",
        "/api/auth/token/",
        json={"username": username, "password": DEMO_PASSWORD},
    )
    browser.close()
    if response.status != 200:
        raise SystemExit(f"token for {username} refused ({response.status})")
    return response.json()["token"]


@dataclass
class Profile:
    """One demo user: the requests of each group, drawn from what the user's area holds."""

    username: str
    label: str
    token: str
    household_pages: int
    api_pages: int
    search_terms: list[str]

    def request(self, group: str, rng: random.Random) -> tuple[str, str, dict[str, str]]:
        """(page kind, path, headers) of the next request."""
        if group == "list":
            kind, path = rng.choice(LIST_PAGES)
            page = rng.randint(2, self.household_pages) if self.household_pages > 1 else 1
            return kind, path.format(page=page), {}
        if group == "api":
            page = rng.randint(1, self.api_pages)
            return (
                "households page_size=200",
                f"/api/households/?page_size=200&page={page}",
                {"Authorization": f"Token {self.token}"},
            )
        term = rng.choice(self.search_terms)
        kind = "surname" if len(term) == 1 else "name"
        return f"q={kind}", f"/households/?q={quote(term)}", {}


def profile_for(server: Server, username: str, label: str, *, page_size: int) -> Profile:
    token = api_token(server, username)
    body = api_get(server, "/api/households/?page_size=200", token)
    count = body["count"]
    heads = sorted({h["head_name"] for h in body["results"] if len(h.get("head_name") or "") >= 2})
    if not heads:
        raise SystemExit(f"{username} sees no household with a head: is the demo loaded?")
    rng = random.Random(username)
    # Surnames (many matches), given names and full names (a few): what a cadre types.
    terms = sorted({h[0] for h in heads})[:6]
    terms += rng.sample([h[1:] for h in heads], min(6, len(heads)))
    terms += rng.sample(heads, min(8, len(heads)))
    return Profile(
        username=username,
        label=label,
        token=token,
        household_pages=max(1, math.ceil(count / page_size)),
        api_pages=max(1, math.ceil(count / 200)),
        search_terms=terms,
    )


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class Sample:
    kind: str
    user: str
    ms: float
    status: int  # 0: the request failed (timeout, connection)


@dataclass
class GroupResult:
    group: str
    seconds: float
    samples: list[Sample]
    server_cpu: float
    client_cpu: float

    def ok_ms(self, samples: list[Sample] | None = None) -> list[float]:
        return [s.ms for s in (self.samples if samples is None else samples) if s.status == 200]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def drive(
    group: str,
    *,
    users: list[tuple[Profile, Browser]],
    concurrency: int,
    warmup: float,
    duration: float,
    watch: ProcessWatch,
) -> GroupResult:
    """``concurrency`` virtual users, each on its own thread and signed-in browser, for
    ``warmup`` untimed seconds then ``duration`` timed ones."""
    samples: list[Sample] = []
    lock = threading.Lock()
    phase = {"record": False, "stop": False}

    def user_loop(index: int) -> None:
        profile, browser = users[index]
        rng = random.Random(f"{group}-{index}")
        mine: list[Sample] = []
        while not phase["stop"]:
            kind, path, headers = profile.request(group, rng)
            started = time.perf_counter()
            try:
                status = browser.get(path, headers=headers)
            except urllib3.exceptions.HTTPError:
                status = 0
            ms = (time.perf_counter() - started) * 1000
            if phase["record"] and not phase["stop"]:
                mine.append(Sample(kind=kind, user=profile.label, ms=ms, status=status))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=user_loop, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    cpu_before = watch.server_cpu()
    client_before = _own_cpu()
    phase["record"] = True
    started = time.monotonic()
    time.sleep(duration)
    phase["stop"] = True
    elapsed = time.monotonic() - started
    server_cpu = watch.server_cpu() - cpu_before
    client_cpu = _own_cpu() - client_before
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S + 5)
    return GroupResult(
        group=group,
        seconds=elapsed,
        samples=samples,
        server_cpu=server_cpu,
        client_cpu=client_cpu,
    )


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------
# Printout


def _line(label: str, samples: list[Sample], seconds: float) -> str:
    ok = [s.ms for s in samples if s.status == 200]
    errors = len(samples) - len(ok)
    return (
        f"{label:<34} {len(samples) / seconds:7.1f} req/s  p50 {percentile(ok, 0.50):6.0f}"
        f"  p95 {percentile(ok, 0.95):6.0f}  p99 {percentile(ok, 0.99):6.0f}"
        f"  max {max(ok, default=math.nan):6.0f} ms  errors {errors}"
    )


def report(result: GroupResult) -> None:
    samples = result.samples
    print(f"\n[{result.group}] {len(samples)} requests in {result.seconds:.1f} s")
    print(_line("  all", samples, result.seconds))
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    by_user: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
        by_user[sample.user].append(sample)
    for kind, group in by_kind.items():
        print(_line(f"  {kind}", group, result.seconds))
    for user, group in by_user.items():
        print(_line(f"  as {user}", group, result.seconds))
    statuses = sorted({s.status for s in samples if s.status != 200})
    if statuses:
        counts = ", ".join(
            f"{status or 'failed'}: {sum(1 for s in samples if s.status == status)}"
            for status in statuses
        )
        print(f"  errors by status: {counts}")
    per_request = result.server_cpu / len(samples) * 1000 if samples else math.nan
    print(
        f"  CPU: server {result.server_cpu:.1f} s ({per_request:.1f} ms a request),"
        f" client {result.client_cpu:.1f} s;"
        f" {(result.server_cpu + result.client_cpu) / result.seconds * 100:.0f} % of one core"
    )


def verdict(results: list[GroupResult]) -> list[str]:
    misses = []
    for result in results:
        p95 = percentile(result.ok_ms(), 0.95)
        if not p95 < TARGET_P95_MS:
            misses.append(f"{result.group} p95 {p95:.0f} ms ≥ {TARGET_P95_MS:.0f} ms")
        errors = sum(1 for s in result.samples if s.status != 200)
        if errors:
            misses.append(f"{result.group}: {errors} errors")
        if result.group == "list":
            rps = len(result.samples) / result.seconds
            if rps < TARGET_LIST_RPS:
                misses.append(f"list {rps:.0f} req/s < {TARGET_LIST_RPS:.0f}")
    return misses


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--var-dir",
        type=Path,
        help="var folder for the server (default: a new temporary one, removed at the end)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="scratch PostgreSQL database (name containing 'bench'; created when missing)",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="start from an empty var folder / database even when one is given",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind and load")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--workers", type=int, default=0, help="gunicorn workers (default: serve's own)"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="threads per worker (default: serve's own)"
    )
    parser.add_argument("-c", "--concurrency", type=int, default=8, help="virtual users")
    parser.add_argument("-d", "--duration", type=float, default=30.0, help="seconds per group")
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed seconds per group")
    parser.add_argument("--groups", default=",".join(GROUPS), help="comma-separated subset")
    args = parser.parse_args()

    host = loopback_host(args.host)
    if args.database_url:
        scratch_database(args.database_url)
    groups = [g for g in args.groups.split(",") if g]
    if unknown := set(groups) - set(GROUPS):
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be 1 to {MAX_CONCURRENCY}")
    if not 0 < args.duration <= MAX_DURATION_S or not 0 <= args.warmup <= MAX_DURATION_S:
        parser.error(f"--duration and --warmup must be at most {MAX_DURATION_S:.0f} s")

    temporary = args.var_dir is None
    var_dir = (args.var_dir or Path(tempfile.mkdtemp(prefix="shouwang-load-"))).resolve()
    try:
        run(args, host=host, groups=groups, var_dir=var_dir, temporary=temporary)
    finally:
        if temporary:  # the demo's database and keys go with it
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"var folder kept: {var_dir}")


def run(
    args: argparse.Namespace, *, host: str, groups: list[str], var_dir: Path, temporary: bool
) -> None:
    if args.rebuild and not temporary and var_dir.exists():
        if any(var_dir.iterdir()) and not (var_dir / "load-bench.log").exists():
            raise SystemExit(f"--rebuild empties only a folder this bench made; {var_dir} is not")
        shutil.rmtree(var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    if args.database_url:
        # The database's personal data is encrypted with the var folder's key: a new folder
        # needs a new database.
        ensure_postgres_database(args.database_url, rebuild=args.rebuild or temporary)
    log = var_dir / "load-bench.log"
    env = server_environment(var_dir=var_dir, database_url=args.database_url, host=host)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{database}, var folder {var_dir}, log {log}")
    prepare(env=env, log=log)

    port = args.port or free_port(host)
    server = serve(
        env=env, host=host, port=port, workers=args.workers, threads=args.threads, log=log
    )
    watch = ProcessWatch(master=server.process.pid)
    watch.start()
    users: list[tuple[Profile, Browser]] = []
    try:
        profiles = [
            profile_for(server, username, label, page_size=LIST_PAGE_SIZE)
            for username, label in USERS
        ]
        # Each virtual user signs in for itself, as each person has their own session.
        for index in range(args.concurrency):
            profile = profiles[index % len(profiles)]
            users.append((profile, signed_in_browser(server, profile.username)))
        waited = watch.wait_idle(kind="task worker", timeout=300)
        if waited > 4:
            print(f"task worker busy for {waited:.0f} s before the load (the month's screening)")
        gunicorn_workers = sum(1 for k in watch.kinds.values() if k == "gunicorn worker")
        master_argv = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().split(b"\0")
        threads = master_argv[master_argv.index(b"--threads") + 1].decode()
        print(
            f"serving {server.base_url}: {gunicorn_workers} gunicorn workers, threads {threads}; "
            f"{args.concurrency} virtual users ({', '.join(p.label for p in profiles)}), "
            f"{args.warmup:.0f} s warm-up + {args.duration:.0f} s per group, "
            f"{os.cpu_count()} cores shared with the client"
        )
        results = []
        for group in groups:
            result = drive(
                group,
                users=users,
                concurrency=args.concurrency,
                warmup=args.warmup,
                duration=args.duration,
                watch=watch,
            )
            report(result)
            results.append(result)
    finally:
        for _profile, browser in users:
            browser.close()
        watch.stop()
        server.stop()

    print("\nserver processes, peak RSS (VmHWM):")
    for pid in sorted(watch.peak_kib, key=lambda p: (watch.kinds[p], p)):
        print(f"  {watch.kinds[pid]:<16} pid {pid:<8} {watch.peak_kib[pid] / 1024:7.1f} MiB")
    total = sum(watch.peak_kib.values()) / 1024
    print(f"  {'sum of peaks':<16} {'':<12} {total:7.1f} MiB")

    misses = verdict(results)
    print(
        f"\ntargets (list ≥ {TARGET_LIST_RPS:.0f} req/s, p95 < {TARGET_P95_MS:.0f} ms, no errors): "
        + ("met" if not misses else "missed: " + "; ".join(misses))
    )


if __name__ == "__main__":
    main()
