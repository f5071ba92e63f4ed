"""The queue in one process: transactional enqueue, periodic scheduling, dead-worker recovery, health, metrics."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from caravane.tasks import registry, worker
from caravane.tasks.models import PeriodicJob, WorkerBeat
from caravane.telemed.jobs import expire_overdue

LEASE = datetime.timedelta(seconds=30)


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_in_a_transaction_that_rolls_back_never_runs():
    with pytest.raises(RuntimeError), transaction.atomic():
        registry.enqueue(expire_overdue)
        raise RuntimeError("the action failed")
    assert not DBTaskResult.objects.exists()
    assert worker.drain() == 0


@pytest.mark.django_db(transaction=True)
def test_a_scenario_whose_creating_action_fails_leaves_no_task(monkeypatch):
    from caravane.planning import actions

    def broken_audit(**kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(actions, "do_record_audit", broken_audit)
    with pytest.raises(RuntimeError):
        actions.do_create_scenario(actor=None, name="x", parameters={})
    assert not DBTaskResult.objects.exists() and worker.drain() == 0


@pytest.mark.django_db
def test_a_periodic_job_is_enqueued_once_per_interval_whoever_asks():
    registry.register_periodic("telemed.expire_overdue", expire_overdue, every_seconds=60)
    now = timezone.now()
    worker.prepare_periodic(now)
    assert "telemed.expire_overdue" in worker.enqueue_due(now)
    # A second worker seeing the same due date, and the next seconds: nothing more until the interval passes.
    assert worker.enqueue_due(now) == [] and worker.enqueue_due(now + datetime.timedelta(seconds=30)) == []
    assert DBTaskResult.objects.filter(task_path=expire_overdue.module_path).count() == 1
    worker.drain()
    assert "telemed.expire_overdue" in worker.enqueue_due(now + datetime.timedelta(seconds=61))
    assert PeriodicJob.objects.get(name="telemed.expire_overdue").next_run_at > now + datetime.timedelta(seconds=61)


@pytest.mark.django_db
def test_a_dead_workers_scenario_is_retried_then_failed_with_a_message():
    from caravane.planning.actions import do_create_scenario
    from caravane.planning.models import Scenario

    scenario = do_create_scenario(actor=None, name="lost", parameters={})
    stale = timezone.now() - 2 * LEASE
    for attempt in (1, 2):
        WorkerBeat.objects.create(worker_id=f"gone-{attempt}", hostname="elsewhere", pid=1, started_at=stale,
                                  seen_at=stale)
        assert str(worker.claim(f"gone-{attempt}").pk) == scenario.task_id
        Scenario.objects.filter(pk=scenario.pk).update(status=Scenario.Status.RUNNING)
        assert worker.recover(LEASE) == 1
        assert not WorkerBeat.objects.filter(worker_id=f"gone-{attempt}").exists()
    task = registry.state(scenario.task_id)
    assert task.status == "FAILED" and task.attempts == 2
    worker.drain()  # the failure handler the recovery queued
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.FAILED
    assert "its worker stopped while running it (attempt 2 of 2)" in scenario.error


@pytest.mark.django_db
def test_a_live_workers_task_is_left_alone():
    registry.enqueue(expire_overdue)
    now = timezone.now()
    WorkerBeat.objects.create(worker_id="alive", hostname="elsewhere", pid=1, started_at=now, seen_at=now)
    worker.claim("alive")
    assert worker.recover(LEASE) == 0
    assert DBTaskResult.objects.get().status == "RUNNING"


@pytest.mark.django_db
def test_readiness_fails_when_ready_tasks_wait_with_no_worker(settings):
    from caravane.core.health import readiness
    from caravane.tasks.monitoring import queue_ready

    assert queue_ready() is None
    registry.enqueue(expire_overdue)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - datetime.timedelta(
        seconds=settings.CARAVANE.task_stall_seconds + 5))
    assert queue_ready().startswith("no live worker")
    ready, answers = readiness()
    assert not ready and answers["task_queue"].startswith("no live worker")
    now = timezone.now()
    WorkerBeat.objects.create(worker_id="w", hostname="h", pid=1, started_at=now, seen_at=now)
    assert queue_ready() is None


@pytest.mark.django_db
def test_metrics_count_tasks_per_state_and_the_oldest_ready_age():
    from caravane.core.metrics import registered_collectors
    from caravane.tasks.monitoring import QueueCollector

    collector = next(c for c in registered_collectors() if isinstance(c, QueueCollector))
    registry.enqueue(expire_overdue)
    registry.enqueue(expire_overdue)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - datetime.timedelta(seconds=90))
    metrics = {family.name: family for family in collector.collect()}
    samples = {tuple(sorted(s.labels.items())): s.value for s in metrics["caravane_tasks"].samples}
    assert samples[(("queue", "default"), ("state", "ready"))] == 2
    assert samples[(("queue", "default"), ("state", "running"))] == 0
    assert metrics["caravane_tasks_oldest_ready_age_seconds"].samples[0].value >= 90
    assert metrics["caravane_task_workers"].samples[0].value == 0
