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
import subprocess
import sys
import time

from uvicorn.config import Config as UvicornConfig
from uvicorn.supervisors.multiprocess import Multiprocess

logger = logging.getLogger(__name__)
GRACEFUL_SECONDS = 30
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


def application():
    """The served ASGI application (a uvicorn factory, called once in each web worker)."""
    from django.conf import settings

    from caravane.asgi import application as caravane_application

    return ThreadLimit(caravane_application, settings.CARAVANE.web_threads)


def task_worker_command() -> list[str] | None:
    """The command line of a background task worker, or None while no `worker` command is installed."""
    from django.core.management import get_commands

    if "worker" not in get_commands():
        return None
    return [sys.executable, "-m", "caravane.cli", "worker"]


class Supervisor(Multiprocess):
    """uvicorn's supervisor of web workers, which also keeps the task workers running."""

    def __init__(self, config: UvicornConfig, sockets, task_command: list[str] | None, task_workers: int):
        super().__init__(config, sockets)
        self.task_command = task_command
        self.tasks: list[tuple[subprocess.Popen, float] | None] = [None] * (task_workers if task_command else 0)

    def init_processes(self) -> None:
        super().init_processes()
        self.keep_task_workers()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        if not self.should_exit.is_set():
            self.keep_task_workers()

    def keep_task_workers(self) -> None:
        """Start each missing task worker, and again any that exited (not sooner than TASK_RESTART_SECONDS)."""
        for index, entry in enumerate(self.tasks):
            if entry is not None:
                process, started = entry
                if process.poll() is None or time.monotonic() - started < TASK_RESTART_SECONDS:
                    continue
                logger.warning("task worker [%s] exited with %s; starting another", process.pid, process.returncode)
            self.tasks[index] = (subprocess.Popen(self.task_command), time.monotonic())

    def terminate_all(self) -> None:
        for entry in self.tasks:
            if entry is not None and entry[0].poll() is None:
                entry[0].terminate()
        super().terminate_all()

    def join_all(self) -> None:
        super().join_all()
        for entry in self.tasks:
            if entry is None:
                continue
            try:
                entry[0].wait(timeout=GRACEFUL_SECONDS)
            except subprocess.TimeoutExpired:
                entry[0].kill()
                entry[0].wait()


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
        "caravane.core.server:application", factory=True, host=host, port=port, workers=workers,
        lifespan="off", log_level="warning", access_log=False, server_header=False,
        # The client's address and scheme are read by the app from the proxy's headers, with its own rule
        # (caravane.audit.context: only from a loopback proxy, its last hop); uvicorn must not rewrite them.
        proxy_headers=False, timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    socket = config.bind_socket()
    try:
        Supervisor(config, [socket], task_worker_command(), task_workers).run()
    finally:
        socket.close()
