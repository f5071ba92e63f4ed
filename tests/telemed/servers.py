"""Caravane ASGI servers in subprocesses (uvicorn), for tests and benchmarks that need several processes.

Each server gets the given environment (DATABASE_URL, REDIS_URL...) and a port from the range given to
telemedicine work (8070-8079) or another one asked for; ``stop`` ends only the processes started here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

PORTS = range(8070, 8080)
START_SECONDS = 30


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def database_url(settings_dict) -> str:
    """A DATABASE_URL naming the database a Django connection uses (PostgreSQL or an SQLite file)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{settings_dict.get('HOST') or 'localhost'}{port}/{settings_dict['NAME']}"


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start(count: int, *, env: dict, log_dir: Path, ports: range = PORTS) -> list[Server]:
    """Start ``count`` servers on free ports of ``ports`` and wait until each answers /healthz."""
    free = [port for port in ports if _free(port)][:count]
    if len(free) < count:
        raise RuntimeError(f"only {len(free)} free ports in {ports.start}-{ports.stop - 1}")
    ports = free
    environment = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment.update(env, DJANGO_SETTINGS_MODULE="caravane.settings", PYTHONUNBUFFERED="1")
    servers = []
    try:
        for port in ports:
            log_path = log_dir / f"server-{port}.log"
            command = [sys.executable, "-m", "uvicorn", "caravane.asgi:application", "--host", "127.0.0.1",
                       "--port", str(port), "--lifespan", "off", "--log-level", "warning", "--no-access-log"]
            with open(log_path, "wb") as log:
                process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
            servers.append(Server(port, process, log_path))
        for server in servers:
            _wait(server)
    except BaseException:
        stop(servers)
        raise
    return servers


def _wait(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"server on {server.port} exited with {server.process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.base_url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server on {server.port} did not answer within {START_SECONDS}s:\n{server.log()}")
        time.sleep(0.2)


def stop(servers: list[Server]) -> None:
    """End the servers started by ``start``."""
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
