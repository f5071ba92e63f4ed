"""The acts' state machine: every valid transition through the actions, every other one refused, each one
timestamped, audited and appended to the transitions table."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from caravane.audit.models import AuditEvent
from caravane.telemed import actions
from caravane.telemed.actions import TIMESTAMP_OF, TRANSITIONS
from caravane.telemed.models import ImmutableRecordError, ServiceRequest, Status, StatusTransition

pytestmark = pytest.mark.django_db

REPORT = {"findings": "Left ventricular hypertrophy on ECG.", "icd10_code": "I10",
          "recommendations": "Add amlodipine 5 mg; control in 4 weeks."}


class Driver:
    """Drives an act into any state, and attempts any transition, through the public actions."""

    def __init__(self, people, network):
        self.people, self.network = people, network

    def specialist(self, act):
        act.refresh_from_db()
        return self.people.national_cardiologist if act.hub_id == self.network.national.pk else self.people.cardiologist

    def perform(self, act, to):
        act.refresh_from_db()
        specialist = self.specialist(act)
        if to == Status.ACCEPTED and act.status == Status.SCHEDULED:
            return actions.do_cancel_appointment(actor=self.people.gp, appointment=act.appointments.get(status="booked"),
                                                 reason="The patient cannot come")
        if to == Status.ACCEPTED:
            return actions.do_accept(actor=specialist, act=act)
        if to == Status.SCHEDULED:
            start = timezone.now() + datetime.timedelta(hours=2)
            slot = actions.do_open_slot(actor=specialist, hub=act.hub, start=start,
                                        end=start + datetime.timedelta(minutes=30))
            return actions.do_book(actor=specialist, act=act, slot=slot)
        if to == Status.IN_PROGRESS:
            return actions.do_start(actor=specialist, act=act)
        if to == Status.REPORTED:
            actions.do_save_report(actor=specialist, act=act, **REPORT)
            return actions.do_sign_report(actor=specialist, act=act)
        if to == Status.CLOSED:
            return actions.do_close(actor=self.people.gp, act=act)
        if to == Status.DECLINED:
            return actions.do_decline(actor=specialist, act=act, reason="Outside our remit")
        if to == Status.CANCELLED:
            return actions.do_cancel(actor=self.people.gp, act=act, reason="Patient referred in person")
        if to == Status.ESCALATED:
            return actions.do_escalate(actor=specialist, act=act, reason="Needs the national centre")
        if to == Status.REQUESTED:
            return actions.do_reassign(actor=self.people.coordinator, act=act, hub=self.network.central,
                                       reason="Balance the load")
        if to == Status.EXPIRED:
            ServiceRequest.objects.filter(pk=act.pk).update(due_at=timezone.now() - datetime.timedelta(days=30))
            return actions.do_expire_overdue()
        raise AssertionError(to)

    PATHS = {
        Status.REQUESTED: [],
        Status.ACCEPTED: [Status.ACCEPTED],
        Status.SCHEDULED: [Status.ACCEPTED, Status.SCHEDULED],
        Status.IN_PROGRESS: [Status.ACCEPTED, Status.IN_PROGRESS],
        Status.REPORTED: [Status.ACCEPTED, Status.IN_PROGRESS, Status.REPORTED],
        Status.CLOSED: [Status.ACCEPTED, Status.IN_PROGRESS, Status.REPORTED, Status.CLOSED],
        Status.DECLINED: [Status.DECLINED],
        Status.CANCELLED: [Status.CANCELLED],
        Status.ESCALATED: [Status.ESCALATED],
        Status.EXPIRED: [Status.EXPIRED],
    }

    def bring(self, act, status):
        for step in self.PATHS[status]:
            self.perform(act, step)
        act.refresh_from_db()
        assert act.status == status
        return act


@pytest.fixture
def driver(people, network):
    return Driver(people, network)


VALID = sorted((source, target) for source, targets in TRANSITIONS.items() for target in targets)
INVALID = sorted((source, target) for source in Status.values for target in Status.values
                 if target not in TRANSITIONS[source])


@pytest.mark.parametrize(("source", "target"), VALID)
def test_every_valid_transition_is_made_timestamped_and_recorded(source, target, driver, request_act):
    act = driver.bring(request_act(), source)
    before = act.transitions.count()
    driver.perform(act, target)
    act.refresh_from_db()
    assert act.status == target
    last = act.transitions.order_by("-at", "-created_at").first()
    assert (last.from_status, last.to_status) == (source, target)
    assert act.transitions.count() == before + 1
    if target in TIMESTAMP_OF:
        assert getattr(act, TIMESTAMP_OF[target]) == last.at


@pytest.mark.parametrize(("source", "target"), INVALID)
def test_every_other_transition_is_refused_and_changes_nothing(source, target, driver, request_act):
    act = driver.bring(request_act(), source)
    transitions = act.transitions.count()
    if target == Status.EXPIRED:
        # Expiry is a sweep: it leaves alone what does not wait for an answer.
        assert act not in driver.perform(act, target)
    else:
        with pytest.raises(ValidationError) as error:
            driver.perform(act, target)
        # A clear message: the state machine's, or the step's own (a report is written once accepted...).
        assert error.value.messages and error.value.messages[0].strip()
        if isinstance(error.value, actions.TransitionError) and target != Status.REPORTED:
            assert "cannot become" in error.value.messages[0]
    act.refresh_from_db()
    assert act.status == source
    assert act.transitions.count() == transitions


def test_transitions_are_audited_and_append_only(request_act, people):
    act = request_act()
    actions.do_accept(actor=people.cardiologist, act=act)
    audit = AuditEvent.objects.filter(object_type="telemed.servicerequest", object_id=str(act.pk))
    assert list(audit.order_by("at", "id").values_list("action", flat=True)) == [
        "telemed.request_act", "telemed.accept"]
    row = StatusTransition.objects.filter(act=act).last()
    row.reason = "rewritten"
    with pytest.raises(ImmutableRecordError):
        row.save()
    with pytest.raises(ImmutableRecordError):
        row.delete()


def test_accepting_names_the_specialist_and_stops_the_timer(request_act, people):
    act = actions.do_accept(actor=people.cardiologist, act=request_act())
    assert act.assignee == people.cardiologist.staff
    assert act.first_answered_at == act.accepted_at
    assert act.participants.filter(staff=people.cardiologist.staff, role="responder").exists()


def test_decline_and_cancel_need_a_reason(request_act, people):
    act = request_act()
    with pytest.raises(ValidationError) as error:
        actions.do_decline(actor=people.cardiologist, act=act, reason="")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.do_cancel(actor=people.gp, act=act, reason=" ")
    assert "reason" in error.value.message_dict
    act.refresh_from_db()
    assert act.status == Status.REQUESTED


def test_a_slot_is_booked_once(request_act, people, network):
    first, second = request_act(), request_act(question="Second patient question")
    for act in (first, second):
        actions.do_accept(actor=people.cardiologist, act=act)
    start = timezone.now() + datetime.timedelta(hours=1)
    slot = actions.do_open_slot(actor=people.cardiologist, hub=network.regional, start=start,
                                end=start + datetime.timedelta(minutes=20))
    appointment = actions.do_book(actor=people.cardiologist, act=first, slot=slot)
    assert appointment.start == slot.start
    with pytest.raises(ValidationError) as error:
        actions.do_book(actor=people.cardiologist, act=second, slot=slot)
    assert "slot" in error.value.message_dict
    second.refresh_from_db()
    assert second.status == Status.ACCEPTED


def test_overlapping_slots_are_refused(people, network):
    start = timezone.now() + datetime.timedelta(hours=1)
    actions.do_open_slot(actor=people.cardiologist, hub=network.regional, start=start,
                         end=start + datetime.timedelta(hours=1))
    with pytest.raises(ValidationError) as error:
        actions.do_open_slot(actor=people.cardiologist, hub=network.regional,
                             start=start + datetime.timedelta(minutes=30), end=start + datetime.timedelta(hours=2))
    assert "start" in error.value.message_dict
