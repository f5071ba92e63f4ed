"""What apps declare to the queue: their tasks (with retries and a failure handler), queue limits and periodic
jobs; and what they ask of it: enqueue a task with their transaction, read a task's state and place in line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils.module_loading import import_string
from django_tasks import task as django_task
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult


@dataclass(frozen=True)
class TaskSpec:
    """How the worker treats one task: attempts before it fails, and the task it enqueues when it does."""

    max_attempts: int = 1
    on_failure: Task | None = None


@dataclass(frozen=True)
class PeriodicJob:
    """A task the workers enqueue once per interval, across all of them."""

    name: str
    task: Task
    every_seconds: int


_SPECS: dict[str, TaskSpec] = {}
_PERIODIC: dict[str, PeriodicJob] = {}
_QUEUE_LIMITS: dict[str, int] = {}


def background_task(*, queue: str = "default", priority: int = 0, max_attempts: int = 1,
                    on_failure: Task | None = None, takes_context: bool = False) -> Callable[[Callable], Task]:
    """Declare a module-level function as a task (a django-tasks ``Task``); see the package docstring."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def declare(function: Callable) -> Task:
        declared = django_task(function, queue_name=queue, priority=priority, takes_context=takes_context)
        _SPECS[declared.module_path] = TaskSpec(max_attempts=max_attempts, on_failure=on_failure)
        return declared

    return declare


def spec_of(task_path: str) -> TaskSpec:
    """The declared treatment of the task at ``task_path`` (one attempt, no handler, when undeclared)."""
    if task_path not in _SPECS:
        try:
            import_string(task_path)  # declaring happens when the task's module is first imported
        except ImportError:
            pass
    return _SPECS.get(task_path, TaskSpec())


def enqueue(task: Task, *args, **kwargs) -> str:
    """Queue ``task(*args, **kwargs)`` in the caller's transaction and return its id.

    The task's row is written on the caller's database connection: called inside an action's transaction it
    commits with the action and is never seen (so never run) if the action rolls back. Arguments must be JSON
    values (pass ids as strings).
    """
    return str(task.enqueue(*args, **kwargs).id)


def limit_queue(queue: str, running_at_most: int) -> None:
    """Let at most ``running_at_most`` tasks of ``queue`` run at once across every worker of the deployment."""
    if running_at_most < 1:
        raise ValueError("a queue limit must be at least 1")
    _QUEUE_LIMITS[queue] = running_at_most


def queue_limits() -> dict[str, int]:
    """The queues that have a limit, with it."""
    return dict(_QUEUE_LIMITS)


def register_periodic(name: str, task: Task, *, every_seconds: int) -> None:
    """Have the workers enqueue ``task()`` every ``every_seconds``, once per interval whatever their number
    (apps call this from their AppConfig.ready)."""
    if every_seconds < 1:
        raise ValueError("a periodic job's interval must be at least one second")
    _PERIODIC[name] = PeriodicJob(name=name, task=task, every_seconds=every_seconds)


def periodic_jobs() -> dict[str, PeriodicJob]:
    """The registered periodic jobs, by name."""
    return dict(_PERIODIC)


@dataclass(frozen=True)
class TaskState:
    """What a caller may show about a task: its status, attempts so far, place in line and error."""

    status: str  # django-tasks' TaskResultStatus: READY, RUNNING, SUCCESSFUL, FAILED
    attempts: int
    position: int | None  # 1 = the next of its queue to start; None unless READY
    error: str


def state(task_id: str) -> TaskState | None:
    """The state of the task with this id, or None when there is no such task (pruned, or never committed)."""
    row = DBTaskResult.objects.filter(pk=task_id).only(
        "status", "worker_ids", "queue_name", "priority", "run_after", "enqueued_at", "exception_class_path").first()
    if row is None:
        return None
    position = None
    if row.status == TaskResultStatus.READY:
        ahead = (models.Q(priority__gt=row.priority)
                 | models.Q(priority=row.priority, run_after__lt=row.run_after)
                 | models.Q(priority=row.priority, run_after=row.run_after, enqueued_at__lt=row.enqueued_at))
        position = 1 + DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, queue_name=row.queue_name).filter(ahead).count()
    return TaskState(status=row.status, attempts=len(row.worker_ids), position=position,
                     error=row.exception_class_path)
