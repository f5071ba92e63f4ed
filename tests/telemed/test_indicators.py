"""Coordinators' indicators per hub and specialty, on known data."""

import datetime

import pytest

from caravane.telemed import actions, selectors
from caravane.telemed.models import ServiceRequest

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.timezone.utc)


def minutes(n):
    return T0 + datetime.timedelta(minutes=n)


def set_times(act, **values):
    ServiceRequest.objects.filter(pk=act.pk).update(**values)


def test_indicators_on_known_data(request_act, people, network):
    a = actions.do_accept(actor=people.cardiologist, act=request_act(priority="routine", question="A"))
    set_times(a, requested_at=T0, due_at=minutes(48 * 60), first_answered_at=minutes(10), reported_at=minutes(60))
    b = actions.do_accept(actor=people.cardiologist, act=request_act(priority="urgent", question="B"))
    set_times(b, requested_at=T0, due_at=minutes(30), first_answered_at=minutes(40), reported_at=minutes(120))
    c = actions.do_decline(actor=people.cardiologist, act=request_act(priority="priority", question="C"),
                           reason="Not for us")
    set_times(c, requested_at=T0, due_at=minutes(240), first_answered_at=minutes(20))
    d = actions.do_escalate(actor=people.cardiologist, act=request_act(kind="teleexpertise", question="D"),
                            reason="Rare case")
    set_times(d, requested_at=T0)
    e = request_act(priority="urgent", question="E")
    set_times(e, requested_at=T0, due_at=minutes(30))
    request_act(kind="teleexpertise", specialty="dermatology", question="F")  # central platform, no filter

    now = minutes(24 * 60)
    table = {(i.hub_id, i.specialty_id): i for i in selectors.indicators(people.national_coordinator, now=now,
                                                                       until=minutes(1))}
    regional = table[(str(network.regional.pk), "cardiology")]
    assert (regional.requests, regional.answered, regional.reported) == (4, 3, 2)
    assert (regional.first_answer_median, regional.first_answer_p90) == (20, 40)
    assert (regional.report_median, regional.report_p90) == (60, 120)
    assert (regional.breaches, regional.declines, regional.escalations) == (2, 1, 1)
    national = table[(str(network.national.pk), "cardiology")]
    assert (national.requests, national.escalations, national.declines) == (1, 0, 0)
    assert set(table) == {(str(network.regional.pk), "cardiology"), (str(network.national.pk), "cardiology")}
    assert regional.as_dict()["first_answer_minutes_p90"] == 40


def test_indicators_follow_the_coordinators_territory(request_act, people, network, staff_factory):
    request_act()
    elsewhere = staff_factory(role="coordinator", coverage_region_id="94").user
    assert [i.requests for i in selectors.indicators(people.coordinator)] == [1]
    assert selectors.indicators(elsewhere) == []
