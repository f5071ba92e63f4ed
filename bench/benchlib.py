"""What the bench scripts share: Django set-up, latency percentiles and their printing, one run per database."""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The ports benches give the servers they start (bench/serving.py and the load tools excepted).
HTTP_PORTS = range(8151, 8160)


def setup_django(*, temporary_data: bool = False) -> None:
    """Make ``caravane`` importable and set Django up, in a fresh temporary data folder if asked (and none is set)."""
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caravane.settings")
    share_secret_key()
    if temporary_data:
        os.environ.setdefault("CARAVANE_DATA_DIR", tempfile.mkdtemp(prefix="caravane-bench-"))
    import django

    django.setup()


def share_secret_key() -> None:
    """Give this process (and the servers it starts) one strong secret key, so its sessions hold on them.

    Debug is off too (unless CARAVANE_DEBUG says otherwise), so in-process figures are those of production.
    """
    os.environ.setdefault("CARAVANE_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("CARAVANE_DEBUG", "0")


def migrate_with_geography() -> float:
    """Migrate and load the geography, print how long it took, and return when it started (perf_counter)."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("load_geography", stdout=quiet)
    print(f"migrate + geography   {time.perf_counter() - started:6.2f} s")
    return started


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which ``fraction`` of the samples fall (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def p50_p99(samples: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile of ``samples``."""
    return statistics.median(samples), percentile(samples, 0.99)


def latency(samples: list[float]) -> str:
    """``p50 … ms   p99 … ms`` of millisecond ``samples``, aligned for a column of such lines."""
    p50, p99 = p50_p99(samples)
    return f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"


def verdict(p99: float, target_ms: float) -> str:
    """Whether a p99 meets its target, for the end of a printed line."""
    return f"target p99 < {target_ms} ms: {'met' if p99 < target_ms else 'MISSED'}"


def postgres_url(database: str) -> str:
    """The URL of ``database`` on DATABASE_URL's server (or postgres@127.0.0.1), created if missing."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    server = base.rsplit("/", 1)[0]
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    return f"{server}/{database}"


def main_per_database(script: str, doc: str, child, *, counts: dict[str, int], sqlite_dir: str, database: str,
                      drop_env: tuple[str, ...] = ("DATABASE_URL",)) -> None:
    """A bench's command line: ``--<count> N`` options (``counts``), ``--only``, ``--database``, ``--sqlite-dir``.

    Runs ``child(args)`` in a fresh process once on SQLite (in ``sqlite_dir``) and once on PostgreSQL
    ``database``, since Django binds its database at start-up; exits with their combined status.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in counts.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--database", default=database, help=f"PostgreSQL database name (default {database})")
    parser.add_argument("--sqlite-dir", default=sqlite_dir, help=f"SQLite data folder (default {sqlite_dir})")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    base = {k: v for k, v in os.environ.items() if k not in drop_env}
    runs = []
    if args.only in (None, "sqlite"):
        runs.append({**base, "CARAVANE_DATA_DIR": args.sqlite_dir})
    if args.only in (None, "postgres"):
        runs.append({**base, "DATABASE_URL": postgres_url(args.database)})
    arguments = [part for name in counts for part in (f"--{name}", str(getattr(args, name)))]
    status = 0
    for env in runs:
        status |= subprocess.run([sys.executable, script, "--child", *arguments], env=env, cwd=ROOT).returncode
    sys.exit(status)


class HttpServer:
    """Caravane served as in production (``caravane serve``, debug off) on this process's database.

    A context manager: starts ``caravane serve`` on the first free port of ``ports`` with this process's
    environment (DATABASE_URL or CARAVANE_DATA_DIR, REDIS_URL, the secret key of ``share_secret_key``) and
    CARAVANE_ENV=production, ``workers`` web processes (one without REDIS_URL, as the server requires) and no
    task worker, waits for /healthz, and stops it on exit.
    """

    def __init__(self, *, workers: int = 2, ports=HTTP_PORTS, log_dir: str | None = None):
        self.workers = workers if os.environ.get("REDIS_URL") else 1
        self.ports = ports
        self.log_path = Path(log_dir or tempfile.mkdtemp(prefix="caravane-bench-http-")) / "server.log"
        self.port, self.process = None, None

    def __enter__(self) -> "HttpServer":
        self.port = next((port for port in self.ports if _port_free(port)), None)
        if self.port is None:
            raise SystemExit(f"no free port in {self.ports.start}-{self.ports.stop - 1}")
        env = {**os.environ, "CARAVANE_ENV": "production", "CARAVANE_DEBUG": "0", "PYTHONUNBUFFERED": "1",
               "CARAVANE_ALLOWED_HOSTS": "127.0.0.1", "PYTHONPATH": str(ROOT / "src")}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        command = [sys.executable, "-m", "caravane.cli", "serve", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(self.workers), "--task-workers", "0"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                if HttpClient(self.port).get("/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit(f"server did not answer /healthz within 60 s:\n{self.log_path.read_text()}")
            time.sleep(0.3)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def describe(self) -> str:
        """How the server runs, for the printed figures."""
        threads = os.environ.get("CARAVANE_WEB_THREADS", "default")
        return f"caravane serve, {self.workers} web process(es) ({threads} threads), production, port {self.port}"


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is free
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class HttpClient:
    """One kept-alive HTTP connection, as a browser behind the reverse proxy (HTTPS forwarded, gzip accepted)."""

    def __init__(self, port: int, *, cookie: str = "", token: str = ""):
        self.port = port
        self.headers = {"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
        if cookie:
            self.headers["Cookie"] = cookie
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path: str) -> tuple[int, bytes, float]:
        """(status, body as sent, milliseconds from sending the request to the last byte)."""
        started = time.perf_counter()
        try:
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, ConnectionError):  # the server closed a kept-alive connection
            self.connection.close()
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
        body = response.read()
        return response.status, body, (time.perf_counter() - started) * 1000

    def timed(self, paths: list[str], *, warm: int = 10) -> list[float]:
        """Milliseconds of each GET of ``paths`` after ``warm`` untimed ones; any answer but 200 stops the bench."""
        return timed_requests([(self, path) for path in paths], warm=warm)


def timed_requests(requests: list[tuple[HttpClient, str]], *, warm: int = 10) -> list[float]:
    """Milliseconds of each (client, path) GET after ``warm`` untimed ones; any answer but 200 stops the bench."""
    samples = []
    for n, (client, path) in enumerate(requests[:warm] + requests):
        status, body, elapsed = client.get(path)
        if status != 200:
            raise SystemExit(f"GET {path}: HTTP {status}\n{body[:500]!r}")
        if n >= warm:
            samples.append(elapsed)
    return samples


def session_cookie(user) -> str:
    """A ``Cookie`` header value for a session of ``user`` (logged in as Django's test client does)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
