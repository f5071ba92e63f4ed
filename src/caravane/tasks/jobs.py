"""The queue's own periodic job: forget what no one needs any more."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from caravane.core import idempotency
from caravane.tasks.registry import background_task

PRUNE_EVERY_SECONDS = 3600
# Finished tasks are kept a week for whoever looks at a failure; the records they worked on keep their outcome.
FINISHED_TASK_LIFETIME = datetime.timedelta(days=7)


@background_task()
def prune() -> dict:
    """Delete expired idempotency keys and the records of tasks finished more than a week ago."""
    cutoff = timezone.now() - FINISHED_TASK_LIFETIME
    tasks, _by_model = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return {"idempotency_keys": idempotency.delete_expired(), "finished_tasks": tasks}
