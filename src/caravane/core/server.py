"""The production server behind `caravane serve` and `caravane demo --serve`.

uvicorn serves the ASGI application (HTTP through Django, WebSockets through Channels) on one port from
CARAVANE_WEB_WORKERS processes that share one listening socket. Django runs each HTTP request's synchronous code
in a thread of its own (``ThreadSensitiveContext``), so requests of one process run concurrently; ``ThreadLimit``
keeps at most CARAVANE_WEB_THREADS of them at once per process, each with a pooled database connection, and
queues the others in the event loop, where waiting costs no thread and no connection. The parent process
supervises: it restarts a web or task worker that dies, and on SIGTERM or SIGINT stops accepting, lets the
requests in flight finish (up to ``GRACEFUL_SECONDS``) and stops the task workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time

from uvicorn.config import Config as UvicornConfig
from uvicorn.supervisors.multiprocess import Multiprocess

from caravane.core.metrics import process_exited, reset_multiprocess_dir

logger = logging.getLogger(__name__)
GRACEFUL_SECONDS = 30
KEEP_ALIVE_SECONDS = 75
# A task worker that dies is started again, but not sooner than this after its previous start, so that one
# failing at start-up does not spin.
TASK_RESTART_SECONDS = 5


class ThreadLimit:
    """ASGI middleware: at most ``limit`` HTTP requests of this process run at once; the rest wait their turn."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self._slots is None:  # made in the worker's own event loop
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            return await self.app(scope, receive, send)


def task_worker_command() -> list[str] | None:
    """The command line of a background task worker, or None while no `worker` command is installed."""
    from django.core.management import get_commands

    if "worker" not in get_commands():
        return None
    return [sys.executable, "-m", "caravane.cli", "worker"]


class TaskWorkers:
    """The background task worker processes: started, restarted when one exits, stopped with the server."""

    def __init__(self, command: list[str] | None, count: int):
        self.command = command
        self.slots: list[tuple[subprocess.Popen, float] | None] = [None] * (count if command else 0)

    def keep(self) -> None:
        """Start each missing worker, and again any that exited (not sooner than TASK_RESTART_SECONDS)."""
        for index, entry in enumerate(self.slots):
            if entry is not None:
                process, started = entry
                if process.poll() is None or time.monotonic() - started < TASK_RESTART_SECONDS:
                    continue
                logger.warning("task worker [%s] exited with %s; starting another", process.pid, process.returncode)
            self.slots[index] = (subprocess.Popen(self.command), time.monotonic())

    def terminate(self) -> None:
        """Ask every running worker to stop (SIGTERM)."""
        for entry in self.slots:
            if entry is not None and entry[0].poll() is None:
                entry[0].terminate()

    def wait(self) -> None:
        """Wait for the workers to stop; kill one that takes longer than GRACEFUL_SECONDS."""
        for entry in self.slots:
            if entry is None:
                continue
            try:
                entry[0].wait(timeout=GRACEFUL_SECONDS)
            except subprocess.TimeoutExpired:
                entry[0].kill()
                entry[0].wait()


class Supervisor(Multiprocess):
    """uvicorn's supervisor of web workers (restarts one that dies), which also keeps the task workers."""

    def __init__(self, config: UvicornConfig, sockets, tasks: TaskWorkers):
        super().__init__(config, sockets)
        self.tasks = tasks

    def init_processes(self) -> None:
        super().init_processes()
        self.tasks.keep()

    def keep_subprocess_alive(self) -> None:
        alive = {process.pid for process in self.processes}
        super().keep_subprocess_alive()
        for pid in alive - {process.pid for process in self.processes}:
            process_exited(pid)  # a dead worker's gauges leave /metrics' sums
        if not self.should_exit.is_set():
            self.tasks.keep()

    def terminate_all(self) -> None:
        self.tasks.terminate()
        super().terminate_all()

    def join_all(self) -> None:
        super().join_all()
        self.tasks.wait()


def serve(host: str, port: int, *, workers: int, task_workers: int) -> None:
    """Serve HTTP and WebSockets on host:port until SIGTERM or SIGINT, with the task workers beside."""
    from django.db import connections

    # The serving processes run with debug off (debug keeps every query in memory and answers errors with
    # tracebacks) unless the environment asks for it; they read their settings afresh.
    os.environ.setdefault("CARAVANE_DEBUG", "0")
    # The workers open their own pools; this process serves nothing and keeps no connection.
    for connection in connections.all(initialized_only=True):
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
    config = UvicornConfig(
        "caravane.asgi:served_application", host=host, port=port, workers=workers,
        lifespan="off", log_level="warning", access_log=False, server_header=False,
        # The client's address and scheme are read by the app from the proxy's headers, with its own rule
        # (caravane.audit.context: only from a loopback proxy, its last hop); uvicorn must not rewrite them.
        proxy_headers=False, timeout_graceful_shutdown=GRACEFUL_SECONDS,
        # Longer than the reverse proxy keeps an idle upstream connection (nginx: 60 s): a server that closed
        # first would race the proxy's next request on it, which nginx then answers 502.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    reset_multiprocess_dir()  # metrics of earlier runs' processes are not this server's
    listening = listening_socket(host, port)
    try:
        Supervisor(config, [listening], TaskWorkers(task_worker_command(), task_workers)).run()
    finally:
        listening.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """The listening socket the web workers share, made as an explicitly TCP socket.

    asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets whose protocol reads IPPROTO_TCP, and
    accepted sockets inherit the listening socket's; uvicorn's own (protocol 0) would leave it on, and every
    answer after the first on a kept-alive connection (nginx's upstream, API clients) would wait about 40 ms for
    the client's delayed acknowledgement.
    """
    address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP,
                                 flags=socket.AI_PASSIVE)[0]
    family, kind, proto, _name, sockaddr = address
    listening = socket.socket(family, kind, proto)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(sockaddr)
    listening.set_inheritable(True)
    return listening
