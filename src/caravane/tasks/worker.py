"""The engine of `caravane worker`: claim ready tasks within the queue limits, run them, keep a heartbeat,
enqueue due periodic jobs, and recover the tasks of workers that died (docs/background-work.md).

django-tasks-db stores the queue (its ``DBTaskResult`` rows, in the app's database); this module replaces its
``db_worker`` loop, which leaves a killed worker's task "running" forever and knows no periodic job or limit.
"""

from __future__ import annotations

import datetime
import logging
import os
import secrets
import signal
import socket
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django_tasks import TaskContext
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from caravane.tasks import registry
from caravane.tasks.models import PeriodicJob, WorkerBeat

logger = logging.getLogger(__name__)

READY, RUNNING = TaskResultStatus.READY, TaskResultStatus.RUNNING
# Claims and recoveries across the deployment take this PostgreSQL advisory lock, one at a time, so that a
# queue's limit holds between two workers claiming at once (SQLite: the write lock every transaction takes).
QUEUE_LOCK_KEY = 0x4341_5256_5451


def _host() -> str:
    # Two containers may share a host name but not a process namespace: a pid is only judged in its own.
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()} {namespace}".strip()[:255]


HOST = _host()


class HandBack(BaseException):
    """Raised inside a running task when its worker is asked to stop: the task goes back to the queue."""


class WorkerLost(Exception):
    """The failure recorded for a task whose worker died (killed, or its machine restarted) too many times."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process its parent has not yet reaped still answers kill(0)
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


@contextmanager
def queue_lock():
    """A transaction in which one worker at a time claims, hands back or recovers tasks."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [QUEUE_LOCK_KEY])
        yield


def claim(worker_id: str) -> DBTaskResult | None:
    """Take the next ready task whose queue is under its limit, marking it running for ``worker_id``."""
    with queue_lock():
        ready = DBTaskResult.objects.ready()
        limits = registry.queue_limits()
        if limits:
            busy = dict(DBTaskResult.objects.running().filter(queue_name__in=limits).order_by()
                        .values_list("queue_name").annotate(n=Count("pk")))
            ready = ready.exclude(queue_name__in=[q for q, limit in limits.items() if busy.get(q, 0) >= limit])
        row = ready.first()
        if row is not None:
            row.claim(worker_id)
    return row


def _enqueue_failure_handler(row: DBTaskResult, message: str) -> None:
    handler = registry.spec_of(row.task_path).on_failure
    if handler is not None:
        registry.enqueue(handler, message, *row.args_kwargs["args"], **row.args_kwargs["kwargs"])


def _settle(row: DBTaskResult, worker_id: str, *, value=None, error: BaseException | None = None) -> None:
    """Record a run's end, unless the task was meanwhile judged lost and recovered (that verdict stands)."""
    with transaction.atomic():
        current = DBTaskResult.objects.select_for_update().filter(pk=row.pk).first()
        if current is None or current.status != RUNNING or current.worker_ids[-1:] != [worker_id]:
            logger.warning("task %s ended after it was recovered from this worker; its end is not recorded", row.pk)
            return
        if error is None:
            try:
                with transaction.atomic():
                    current.set_successful(value)
                return
            except (TypeError, ValueError) as exc:  # a return value JSON cannot hold
                error = exc
        current.set_failed(error)
        _enqueue_failure_handler(current, f"{type(error).__name__}: {error}")


def _hand_back(row: DBTaskResult) -> None:
    for last_try in (False, True):
        try:
            with queue_lock():
                # The interrupted run does not count as an attempt.
                DBTaskResult.objects.filter(pk=row.pk, status=RUNNING).update(
                    status=READY, started_at=None, worker_ids=row.worker_ids[:-1])
            return
        except DatabaseError:
            # The interruption may have cut a query short and left the connection unusable: open a new one.
            if last_try:
                raise
            connection.close()


def dead_workers(lease: datetime.timedelta, now: datetime.datetime | None = None) -> set[str]:
    """Workers that are gone: silent for longer than ``lease``, or on this host with their process ended."""
    cutoff = (now or timezone.now()) - lease
    return {beat.worker_id for beat in WorkerBeat.objects.all()
            if beat.seen_at < cutoff or (beat.hostname == HOST and not _pid_alive(beat.pid))}


def recover(lease: datetime.timedelta, now: datetime.datetime | None = None) -> int:
    """Requeue the running tasks of dead workers, or fail those out of attempts; returns how many were recovered."""
    dead = dead_workers(lease, now)
    recovered = 0
    with queue_lock():
        live = set(WorkerBeat.objects.values_list("worker_id", flat=True)) - dead
        for row in DBTaskResult.objects.running().select_for_update():
            if row.worker_ids[-1:] and row.worker_ids[-1] in live:
                continue
            recovered += 1
            attempts, allowed = len(row.worker_ids), registry.spec_of(row.task_path).max_attempts
            if attempts < allowed:
                logger.warning("task %s (%s) lost its worker; queued again (attempt %d of %d done)",
                               row.pk, row.task_path, attempts, allowed)
                row.status, row.started_at = READY, None
                row.save(update_fields=["status", "started_at"])
                continue
            message = f"its worker stopped while running it (attempt {attempts} of {allowed})"
            logger.error("task %s (%s) failed: %s", row.pk, row.task_path, message)
            row.set_failed(WorkerLost(message))
            _enqueue_failure_handler(row, message)
        WorkerBeat.objects.filter(worker_id__in=dead).delete()
    return recovered


def prepare_periodic(now: datetime.datetime | None = None) -> None:
    """Make sure each registered periodic job has its schedule row; a shortened interval applies at once."""
    now = now or timezone.now()
    jobs = registry.periodic_jobs()
    PeriodicJob.objects.bulk_create([PeriodicJob(name=name, next_run_at=now) for name in jobs],
                                    ignore_conflicts=True)
    for job in jobs.values():
        soonest = now + datetime.timedelta(seconds=job.every_seconds)
        PeriodicJob.objects.filter(name=job.name, next_run_at__gt=soonest).update(next_run_at=soonest)


def enqueue_due(now: datetime.datetime | None = None) -> list[str]:
    """Enqueue the periodic jobs that are due, each once whatever the number of workers; returns their names."""
    now = now or timezone.now()
    jobs = registry.periodic_jobs()
    enqueued = []
    for row in PeriodicJob.objects.filter(name__in=list(jobs), next_run_at__lte=now):
        job = jobs[row.name]
        with transaction.atomic():
            # Compare-and-set: of the workers that saw this run due, only the first moves the date forward.
            moved = PeriodicJob.objects.filter(name=row.name, next_run_at=row.next_run_at).update(
                next_run_at=now + datetime.timedelta(seconds=job.every_seconds), last_enqueued_at=now)
            pending = DBTaskResult.objects.filter(task_path=job.task.module_path, status__in=[READY, RUNNING])
            if moved and not pending.exists():  # a run still waiting or running covers this one too
                registry.enqueue(job.task)
                enqueued.append(job.name)
    return enqueued


class Worker:
    """One worker process's loop; several may run at once, on one machine or many."""

    def __init__(self, *, interval: float = 1.0, lease_seconds: int | None = None, worker_id: str = ""):
        self.interval = interval
        self.lease = datetime.timedelta(seconds=lease_seconds or settings.CARAVANE.task_lease_seconds)
        self.worker_id = worker_id or f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.stopping = threading.Event()
        self._in_task = False

    # --- the process's life ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Work until SIGTERM or SIGINT: a running task is handed back to the queue, then the worker exits."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        self.register()
        beat = threading.Thread(target=self._beat, name="worker-heartbeat", daemon=True)
        beat.start()
        logger.info("worker %s started", self.worker_id)
        next_recovery = 0.0
        try:
            prepare_periodic()
            while not self.stopping.is_set():
                try:
                    close_old_connections()
                    enqueue_due()
                    if time.monotonic() >= next_recovery:
                        recover(self.lease)
                        next_recovery = time.monotonic() + self.lease.total_seconds() / 2
                    row = claim(self.worker_id)
                except DatabaseError as exc:  # database restarting or SQLite busy: try again shortly
                    logger.warning("worker %s: %s", self.worker_id, exc)
                    connection.close()
                    row = None
                if row is None:
                    self.stopping.wait(self.interval)
                else:
                    self.run_task(row)
        finally:
            self.stopping.set()
            beat.join()
            self.unregister()
            connection.close()
            logger.info("worker %s stopped", self.worker_id)

    def _stop(self, signum, frame) -> None:
        if self.stopping.is_set():
            return
        logger.info("worker %s: %s, stopping", self.worker_id, signal.strsignal(signum))
        self.stopping.set()
        if self._in_task:
            raise HandBack()

    def register(self) -> None:
        """Announce this worker alive (its running tasks are recovered once it is not)."""
        now = timezone.now()
        WorkerBeat.objects.update_or_create(worker_id=self.worker_id, defaults={
            "hostname": HOST, "pid": os.getpid(), "started_at": now, "seen_at": now})

    def unregister(self) -> None:
        """Say this worker has stopped."""
        try:
            WorkerBeat.objects.filter(worker_id=self.worker_id).delete()
        except DatabaseError as exc:  # its beat then expires with the lease
            logger.warning("worker %s could not unregister: %s", self.worker_id, exc)

    def _beat(self) -> None:
        # Its own thread and connection, so that a long task does not make the worker look dead.
        try:
            while not self.stopping.wait(self.lease.total_seconds() / 3):
                try:
                    if not WorkerBeat.objects.filter(worker_id=self.worker_id).update(seen_at=timezone.now()):
                        self.register()  # judged dead during an outage: its tasks were recovered; it goes on
                except DatabaseError as exc:
                    logger.warning("worker %s heartbeat: %s", self.worker_id, exc)
                    connection.close()
        finally:
            connection.close()

    # --- one task ---------------------------------------------------------------------------------------------

    def run_task(self, row: DBTaskResult) -> None:
        """Run a claimed task and record its end (success, failure, or handed back if the worker stops)."""
        try:
            task, result = row.task, row.task_result
            self._in_task = True
            if task.takes_context:
                value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
            else:
                value = task.call(*result.args, **result.kwargs)
            self._in_task = False
        except HandBack:
            self._in_task = False
            logger.info("worker %s hands task %s back to the queue", self.worker_id, row.pk)
            _hand_back(row)
            return
        except Exception as exc:
            self._in_task = False
            logger.exception("task %s (%s) failed", row.pk, row.task_path)
            _settle(row, self.worker_id, error=exc)
            return
        _settle(row, self.worker_id, value=value)


def drain(*, worker_id: str = "") -> int:
    """Run every ready task in this thread, one after another, until none is left; returns how many ran."""
    worker = Worker(worker_id=worker_id)
    worker.register()
    ran = 0
    try:
        while (row := claim(worker.worker_id)) is not None:
            worker.run_task(row)
            ran += 1
    finally:
        worker.unregister()
    return ran
