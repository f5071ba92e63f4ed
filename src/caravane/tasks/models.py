"""The worker's own bookkeeping beside django-tasks-db's queue table: who is alive, when periodic jobs are due."""

from __future__ import annotations

from django.db import models


class WorkerBeat(models.Model):
    """A running `caravane worker`: it refreshes ``seen_at`` while alive and deletes the row when it stops."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class PeriodicJob(models.Model):
    """When a registered periodic job is next due; workers move ``next_run_at`` forward with a compare-and-set,
    so exactly one of them enqueues each run."""

    name = models.CharField(max_length=80, primary_key=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name
