"""Overdue acts expire with no cron: two `caravane worker` processes run the periodic expiry, once."""

import datetime
import time

from caravane.audit.models import AuditEvent
from caravane.telemed.models import ServiceRequest


def test_two_workers_expire_an_overdue_act_exactly_once(worker_processes, request_act):
    from django_tasks_db.models import DBTaskResult

    from caravane.telemed.jobs import expire_overdue

    act = request_act(priority="urgent")
    shift = datetime.timedelta(minutes=121)  # past the urgent expiry (2 hours)
    ServiceRequest.objects.filter(pk=act.pk).update(requested_at=act.requested_at - shift, due_at=act.due_at - shift)
    workers = [worker_processes.start(), worker_processes.start()]
    worker_processes.wait_for(lambda: ServiceRequest.objects.filter(pk=act.pk, status="expired").exists(),
                              what="the act to expire", logs=workers)
    # Both workers keep polling for a while: the job is due again only after its interval (60 s).
    worker_processes.wait_for(lambda: DBTaskResult.objects.filter(status="SUCCESSFUL").count() >= 2,
                              what="the prune job to run too", logs=workers)
    time.sleep(2)  # a few more seconds of both workers polling every 0.1 s
    for worker in workers:
        worker.process.terminate()
        assert worker.process.wait(timeout=30) == 0
    assert AuditEvent.objects.filter(action="telemed.expire", object_id=str(act.pk)).count() == 1
    assert DBTaskResult.objects.filter(task_path=expire_overdue.module_path).count() == 1
