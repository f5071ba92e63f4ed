"""What ``serving.py`` needs around its measurements: the bench's own virtual environment, server processes
that are always stopped, readiness waits, a PostgreSQL connection sampler and a reverse proxy."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchlib import ROOT

BENCH = ROOT / "bench"
OUT = BENCH / "out"  # gitignored
BENCH_VENV = Path(os.environ.get("CARAVANE_BENCH_VENV", OUT / "venv"))
# The load tools and the reference server, pinned; they live outside the project's environment because their
# dependencies (FastAPI, pydantic, gevent, Flask) are none of the app's and must not move its pins.
BENCH_REQUIREMENTS = ["fhirstarter==4.2.0", "locust==2.47.0", "aiohttp==3.14.5", "uvicorn==0.54.0"]
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")


def bench_python() -> str:
    """The bench environment's Python, creating the environment (once) when it is missing."""
    python = BENCH_VENV / "bin" / "python"
    marker = BENCH_VENV / ".requirements"
    wanted = "\n".join(BENCH_REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return str(python)
    print(f"Setting up the bench's own environment in {BENCH_VENV} ({', '.join(BENCH_REQUIREMENTS)}); "
          "this happens once and needs the package index...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *BENCH_REQUIREMENTS],
                            capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"Could not install the bench tools into {BENCH_VENV}:\n{result.stderr[-2000:]}")
    marker.write_text(wanted)
    return str(python)


class Processes:
    """Started servers, each in its own process group, stopped at exit, on error and on Ctrl-C or SIGTERM."""

    def __init__(self):
        self.running: list[tuple[str, subprocess.Popen]] = []
        atexit.register(self.stop_all)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        self.stop_all()
        sys.exit(128 + signum)

    def start(self, name: str, command: list[str], *, env: dict | None = None, cwd=ROOT) -> subprocess.Popen:
        """Start ``command`` with its output in bench/out/NAME.log."""
        OUT.mkdir(exist_ok=True)
        log = open(OUT / f"{name}.log", "w")
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.running.append((name, process))
        return process

    def stop(self, process: subprocess.Popen) -> None:
        """Stop one process group: SIGTERM, then SIGKILL after 10 s."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass
        self.running = [(n, p) for n, p in self.running if p is not process]

    def stop_all(self) -> None:
        """Stop every process this run started, newest first."""
        for _name, process in reversed(list(self.running)):
            self.stop(process)

    def wait_ready(self, name: str, process: subprocess.Popen, url: str, *, timeout: float = 90,
                   headers: dict | None = None) -> None:
        """Wait until ``url`` answers 200; exit with the server's log tail if it dies or never does."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as answer:
                    if answer.status == 200:
                        return
                    last = f"HTTP {answer.status}"
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code}"
            except OSError as error:
                last = str(error)
            time.sleep(0.3)
        tail = (OUT / f"{name}.log").read_text(errors="replace")[-3000:]
        state = f"exited with {process.returncode}" if process.poll() is not None else f"not ready ({last})"
        sys.exit(f"{name} {state} at {url}. Its log (bench/out/{name}.log) ends with:\n{tail}")


def port_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``."""
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def require_free(*ports: int) -> None:
    """Exit with a clear message if a port is taken (a server left over from an earlier run)."""
    taken = [str(port) for port in ports if not port_free(port)]
    if taken:
        sys.exit(f"Port(s) {', '.join(taken)} already in use: stop what listens there or pass other --port-base.")


class ConnectionSampler:
    """Counts a database's connections in pg_stat_activity every ``interval`` seconds, in a thread."""

    def __init__(self, server_url: str, database: str, interval: float = 0.2):
        self.server_url, self.database, self.interval = server_url, database, interval
        self.peak, self.samples, self._stop = 0, [], threading.Event()
        self._thread = None

    def max_connections(self) -> int:
        """PostgreSQL's configured max_connections (for every database together)."""
        import psycopg

        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as conn:
            return int(conn.execute("SHOW max_connections").fetchone()[0])

    def __enter__(self):
        import psycopg

        self._stop.clear()
        self.peak, self.samples = 0, []

        def sample():
            with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as conn:
                while not self._stop.is_set():
                    count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                         [self.database]).fetchone()[0]
                    self.samples.append(count)
                    self.peak = max(self.peak, count)
                    self._stop.wait(self.interval)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


def serve_command(port: int, workers: int) -> tuple[list[str], str]:
    """The command that serves Caravane on ``port`` with ``workers`` web processes, and what it is, in words."""
    return ([sys.executable, "-m", "caravane.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--task-workers", "0"], f"caravane serve, {workers} web processes")


def pool_ceiling(workers: int, task_workers: int = 0) -> str:
    """The most PostgreSQL connections the app may open by its settings: processes times each pool's maximum."""
    from caravane.config import Config

    config = Config.from_environ()
    return (f"configured ceiling {(workers + task_workers) * config.db_pool_max} "
            f"({workers + task_workers} processes x pool max {config.db_pool_max})")


def write_nginx_config(prefix: Path, listen: int, upstream: int) -> Path:
    """A minimal nginx configuration (non-daemon, files under ``prefix``) proxying ``listen`` to ``upstream``."""
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(f"""\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream caravane {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{listen};
        client_max_body_size 64m;
        location / {{
            proxy_pass http://caravane;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
""")
    return config
