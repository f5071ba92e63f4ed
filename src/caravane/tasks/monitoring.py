"""The queue's readiness check and Prometheus metrics."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client.core import GaugeMetricFamily

from caravane.tasks.models import WorkerBeat


def oldest_ready_age() -> float:
    """Seconds the oldest task ready to run has waited (0 when none waits)."""
    oldest = DBTaskResult.objects.ready().order_by().aggregate(oldest=Min("enqueued_at"))["oldest"]
    return max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else 0.0


def live_workers() -> int:
    """Workers whose heartbeat is within the lease."""
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.CARAVANE.task_lease_seconds)
    return WorkerBeat.objects.filter(seen_at__gte=cutoff).count()


def queue_ready() -> str | None:
    """Readiness: None when the queue's table answers and no ready task has waited past the threshold without a
    live worker; else why not."""
    try:
        age = oldest_ready_age()
        workers = live_workers()
    except Exception as exc:  # the probe reports the failure instead of raising it
        return f"unreachable: {exc.__class__.__name__}"
    if age > settings.CARAVANE.task_stall_seconds and workers == 0:
        return f"no live worker; a task has waited {age:.0f} s"
    return None


class QueueCollector:
    """Prometheus collector: tasks per queue and state, the oldest ready task's age, live workers."""

    def collect(self):
        """Read the queue's figures now (one grouped count and two small queries per scrape)."""
        tasks = GaugeMetricFamily("caravane_tasks", "Background tasks by queue and state.",
                                  labels=["queue", "state"])
        counts = (DBTaskResult.objects.order_by().values_list("queue_name", "status")
                  .annotate(n=Count("pk")))
        seen = set()
        for queue, status, n in counts:
            tasks.add_metric([queue, status.lower()], n)
            seen.add((queue, status))
        for status in (TaskResultStatus.READY, TaskResultStatus.RUNNING):  # an empty queue reads 0, not absent
            if not any(s == status for _q, s in seen):
                tasks.add_metric(["default", status.lower()], 0)
        yield tasks
        yield GaugeMetricFamily("caravane_tasks_oldest_ready_age_seconds",
                                "Seconds the oldest task ready to run has waited (0 when none).",
                                value=oldest_ready_age())
        yield GaugeMetricFamily("caravane_task_workers", "Workers with a heartbeat within the lease.",
                                value=live_workers())
