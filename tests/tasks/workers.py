"""`caravane worker` processes for tests, on the test database; ``worker_processes`` ends only those it started.

A worker started with ``slow=SECONDS`` runs planning scenarios for real but pauses that long at each progress
step, so that a test can stop or kill it in the middle of a run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.telemed.servers import database_url

SRC = Path(__file__).resolve().parents[2] / "src"
# The worker command, with the planning pipeline's progress steps slowed (test instrumentation only).
SLOW_WORKER = """
import os, sys, time
import django
django.setup()
from caravane.planning import runner
real_run_plan, pause = runner.run_plan, float(os.environ["TEST_PLANNING_PAUSE"])

def slow_run_plan(parameters, progress):
    def slowed(fraction, text):
        progress(fraction, text)
        time.sleep(pause)
    return real_run_plan(parameters, progress=slowed)

runner.run_plan = slow_run_plan
from django.core.management import call_command
call_command("worker", interval=0.1)
"""


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(condition, seconds: float = 60, what: str = "the condition", logs=()):
    """Poll ``condition`` until it returns something true; fail with the workers' logs after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n" + "\n---\n".join(w.log() for w in logs))
        time.sleep(0.1)


class Workers:
    """The workers one test started: ``start(env=..., slow=...)`` and ``wait_for(...)``."""

    wait_for = staticmethod(wait_for)

    def __init__(self, database_url: str, data_dir: str, tmp_path: Path):
        self.database_url, self.data_dir, self.tmp_path = database_url, data_dir, tmp_path
        self.started: list[WorkerProcess] = []

    def start(self, env: dict | None = None, slow: float = 0.0) -> WorkerProcess:
        """Start one worker process (slowed at each planning progress step when ``slow`` is given)."""
        log_path = self.tmp_path / f"worker-{len(self.started)}.log"
        environment = {**os.environ, "DATABASE_URL": self.database_url, "CARAVANE_DATA_DIR": self.data_dir,
                       "DJANGO_SETTINGS_MODULE": "caravane.settings", "PYTHONUNBUFFERED": "1",
                       "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
                       **(env or {})}
        if slow:
            command = [sys.executable, "-c", SLOW_WORKER]
            environment["TEST_PLANNING_PAUSE"] = str(slow)
        else:
            command = [sys.executable, "-m", "caravane.cli", "worker", "--interval", "0.1"]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
        worker = WorkerProcess(process, log_path)
        self.started.append(worker)
        return worker

    def end_all(self) -> None:
        """Kill the workers still running and reap them all."""
        for worker in self.started:
            if worker.process.poll() is None:
                worker.process.kill()
            worker.process.wait(timeout=30)


@pytest.fixture
def worker_processes(transactional_db, tmp_path):
    """Workers on the test database (data committed so they see it); all are ended after the test."""
    from django.conf import settings
    from django.db import connection

    workers = Workers(database_url(connection.settings_dict), str(settings.CARAVANE.data_dir), tmp_path)
    yield workers
    workers.end_all()

