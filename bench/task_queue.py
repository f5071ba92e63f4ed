"""The task queue: enqueue latency, throughput of N `caravane worker` processes, and pick-up delay.

Usage: .venv/bin/python bench/task_queue.py [--tasks 500] [--workers 2]
Runs on the embedded SQLite default (a temporary data folder) or on DATABASE_URL's database. The payload is the
queue's own prune job (two small DELETEs), so the figures are the queue's cost, not a task's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from benchlib import ROOT, latency, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    setup_django(temporary_data=True)
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from caravane.tasks.jobs import prune
    from caravane.tasks.registry import enqueue

    call_command("migrate", interactive=False, verbosity=0)
    DBTaskResult.objects.all().delete()
    print(f"database              {connection.vendor}")
    samples = []
    for _ in range(args.tasks):
        started = time.perf_counter()
        with transaction.atomic():
            enqueue(prune)
        samples.append((time.perf_counter() - started) * 1000)
    print(f"enqueue (own commit)  {latency(samples)}")

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
    workers = [subprocess.Popen([sys.executable, "-m", "caravane.cli", "worker", "--interval", "0.05"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(args.workers)]
    try:
        while not DBTaskResult.objects.filter(status="RUNNING").exists() and \
                not DBTaskResult.objects.filter(status="SUCCESSFUL").exists():
            time.sleep(0.01)
        started = time.perf_counter()
        while DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        print(f"run {args.tasks} tasks, {args.workers} workers  {elapsed:6.2f} s = {args.tasks / elapsed:7.1f} tasks/s")
        delays = []
        for _ in range(20):
            task_id = enqueue(prune)
            while not (row := DBTaskResult.objects.filter(pk=task_id, started_at__isnull=False).first()):
                time.sleep(0.005)
            delays.append((row.started_at - row.enqueued_at).total_seconds() * 1000)
            time.sleep(0.1)
        print(f"pick-up delay (idle)  {latency(delays)}")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)


if __name__ == "__main__":
    main()
