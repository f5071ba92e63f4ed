"""Service-level timers and breaches, expiry, and the specialist's worklist order and scope."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from caravane.telemed import actions, selectors, sla
from caravane.telemed.models import ServiceLevel, ServiceRequest

pytestmark = pytest.mark.django_db


def age(act, minutes):
    """Make an act as if it had been requested ``minutes`` ago (its due time moves with it)."""
    shift = datetime.timedelta(minutes=minutes)
    ServiceRequest.objects.filter(pk=act.pk).update(requested_at=act.requested_at - shift, due_at=act.due_at - shift)
    act.refresh_from_db()
    return act


def test_default_service_levels():
    now = timezone.now()
    assert sla.answer_due("urgent", now) - now == datetime.timedelta(minutes=30)
    assert sla.answer_due("priority", now) - now == datetime.timedelta(hours=4)
    assert sla.answer_due("routine", now) - now == datetime.timedelta(hours=48)


def test_service_levels_are_configurable_per_priority(request_act):
    ServiceLevel.objects.create(priority="urgent", answer_minutes=15, expire_minutes=60)
    act = request_act(priority="urgent")
    assert act.due_at - act.requested_at == datetime.timedelta(minutes=15)


def test_timer_runs_until_the_first_answer_and_flags_breaches(request_act, people):
    act = request_act(priority="urgent")
    now = timezone.now()
    assert not sla.timer(act, now).breached
    assert 29 * 60 < sla.timer(act, now).remaining_seconds <= 30 * 60
    late = sla.timer(act, now + datetime.timedelta(minutes=31))
    assert late.breached and late.remaining_seconds < 0
    act = age(act, 45)
    act = actions.do_accept(actor=people.cardiologist, act=act)
    timer = sla.timer(act, timezone.now() + datetime.timedelta(days=1))
    assert timer.breached and not timer.running and timer.remaining_seconds == 0
    on_time = actions.do_accept(actor=people.cardiologist, act=request_act(priority="urgent"))
    assert not sla.timer(on_time, timezone.now() + datetime.timedelta(days=1)).breached


def test_escalation_restarts_the_timer_at_the_new_hub(request_act, people):
    act = age(request_act(priority="priority"), 60)
    act = actions.do_escalate(actor=people.cardiologist, act=act, reason="Complex")
    timer = sla.timer(act, timezone.now())
    assert timer.running and not timer.breached
    assert act.first_answered_at is not None


def test_expiry_sweep_and_command(request_act, people):
    fresh = request_act(priority="urgent")
    stale = age(request_act(priority="urgent", question="Old"), 121)
    answered = actions.do_accept(actor=people.cardiologist, act=age(request_act(priority="urgent"), 500))
    out = io.StringIO()
    call_command("telemed_expire", stdout=out)
    assert "1 request(s) expired" in out.getvalue()
    statuses = dict(ServiceRequest.objects.values_list("pk", "status"))
    assert statuses == {fresh.pk: "requested", stale.pk: "expired", answered.pk: "accepted"}
    stale.refresh_from_db()
    assert stale.expired_at is not None
    assert stale.transitions.last().actor is None
    assert actions.do_expire_overdue() == []


def test_worklist_orders_by_priority_then_waiting_time(request_act, people, network):
    routine_old = age(request_act(priority="routine", question="routine old"), 600)
    urgent_new = request_act(priority="urgent", question="urgent new")
    priority_old = age(request_act(priority="priority", question="priority old"), 300)
    urgent_old = age(request_act(priority="urgent", question="urgent old"), 20)
    routine_new = request_act(priority="routine", question="routine new")
    entries = selectors.worklist(people.cardiologist, hub=network.regional, specialty="cardiology")
    assert [e.act.question for e in entries] == ["urgent old", "urgent new", "priority old", "routine old",
                                                 "routine new"]
    assert entries[0].waiting_minutes >= 20
    # Breaches are flagged: the priority request waited 5 h of its 4 h.
    flagged = {e.act.question for e in entries if e.timer.breached}
    assert flagged == {"priority old"}
    assert {routine_old.pk, urgent_new.pk, priority_old.pk, urgent_old.pk, routine_new.pk} == {
        e.act.pk for e in entries}


def test_worklist_holds_only_open_acts_of_the_hub_and_specialty(request_act, people, network):
    open_act = request_act()
    declined = actions.do_decline(actor=people.cardiologist, act=request_act(question="declined"), reason="No")
    dermatology = request_act(kind="teleexpertise", specialty="dermatology")
    entries = selectors.worklist(people.cardiologist, hub=network.regional, specialty="cardiology")
    assert [e.act.pk for e in entries] == [open_act.pk]
    assert declined.pk not in [e.act.pk for e in entries]
    # Another specialist, or the same specialty at another hub, sees none of them.
    assert selectors.worklist(people.paediatrician, hub=network.regional, specialty="cardiology") == []
    assert selectors.worklist(people.other_cardiologist, hub=network.regional, specialty="cardiology") == []
    assert [e.act.pk for e in selectors.worklist(people.dermatologist, hub=network.central,
                                                 specialty="dermatology")] == [dermatology.pk]
    assert selectors.worklists_of(people.cardiologist) == [(network.regional, "cardiology")]
