"""Who may join an act's call, decided by the gate with an audit row for each join, leave and refusal."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from caravane.rooms import actions, selectors

from .conftest import audit_rows

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["gp", "nurse", "cardiologist"])
def test_the_participants_join_and_leave_with_an_audit_row_each(accepted, people, who):
    user = getattr(people, who)
    attendance = actions.do_join(actor=user, act=accepted)
    assert attendance.present and len(attendance.peer) == 16
    assert [a.pk for a in selectors.present(accepted)] == [attendance.pk]
    actions.do_leave(actor=user, attendance=attendance, reason="hang-up")
    actions.do_leave(actor=user, attendance=attendance)  # a second close of the same socket: nothing more
    assert audit_rows("rooms.join", user) == [("allowed", "")]
    assert audit_rows("rooms.leave", user) == [("allowed", "hang-up")]
    assert not selectors.present(accepted).exists()


def test_the_booked_specialist_joins(request_act, people, network):
    from django.utils import timezone

    from caravane.telemed.actions import do_accept, do_book, do_open_slot

    act = do_accept(actor=people.cardiologist, act=request_act())
    start = timezone.now() + datetime.timedelta(minutes=5)
    slot = do_open_slot(actor=people.cardiologist, hub=network.regional, start=start,
                        end=start + datetime.timedelta(minutes=30))
    do_book(actor=people.cardiologist, act=act, slot=slot)
    act.refresh_from_db()
    assert act.status == "scheduled"
    assert actions.do_join(actor=people.cardiologist, act=act).present


@pytest.mark.parametrize(("who", "reason"), [
    ("other_gp", "out of scope"),  # another site's GP
    ("paediatrician", "out of scope"),  # another specialty at the same hub
    ("other_cardiologist", "out of scope"),  # the same specialty at another hub
    ("coordinator", "no observer allowed"),  # the act does not let a coordinator observe
    ("national_coordinator", "no observer allowed"),
])
def test_outsiders_are_refused_with_an_audit_row(accepted, people, who, reason):
    user = getattr(people, who)
    with pytest.raises(PermissionDenied):
        actions.do_join(actor=user, act=accepted)
    assert audit_rows("rooms.join", user) == [("denied", reason)]
    assert not selectors.present(accepted).exists()


def test_a_colleague_of_the_assigned_specialist_is_not_a_participant(accepted, people, network, staff_factory,
                                                                    specialties):
    colleague = staff_factory(role="specialist", site=network.regional, specialty=specialties["cardiology"]).user
    with pytest.raises(PermissionDenied, match="participants"):
        actions.do_join(actor=colleague, act=accepted)
    assert audit_rows("rooms.join", colleague) == [("denied", "not a participant")]


def test_anonymous_is_refused(accepted):
    with pytest.raises(PermissionDenied):
        actions.admit(AnonymousUser(), accepted, audit_action="rooms.join")
    assert audit_rows("rooms.join") == [("denied", "missing permission rooms.join_call")]


def test_without_valid_consent_nobody_joins(accepted, people, consent):
    from caravane.patients.actions import do_revoke_consent

    do_revoke_consent(actor=people.gp, consent=consent, reason="The patient changed her mind.")
    with pytest.raises(PermissionDenied, match="consent"):
        actions.do_join(actor=people.cardiologist, act=accepted)
    assert audit_rows("rooms.join", people.cardiologist) == [("denied", "no valid consent")]


def test_no_call_before_acceptance_nor_for_tele_expertise(request_act, people):
    from caravane.telemed.actions import do_accept

    requested = request_act()
    with pytest.raises(PermissionDenied, match="accepted or booked"):
        actions.do_join(actor=people.gp, act=requested)
    expertise = do_accept(actor=people.cardiologist, act=request_act(kind="teleexpertise"))
    with pytest.raises(PermissionDenied, match="teleconsultation or a remote assistance"):
        actions.do_join(actor=people.gp, act=expertise)
    assert audit_rows("rooms.join", people.gp) == [("denied", "act is requested"),
                                                   ("denied", "no call for this kind of act")]


def test_a_reported_act_has_no_call(accepted, people):
    from caravane.telemed.actions import do_save_report, do_sign_report

    do_save_report(actor=people.cardiologist, act=accepted, findings="Resistant hypertension.",
                   diagnosis_text="Hypertension", recommendations="Add a diuretic.")
    do_sign_report(actor=people.cardiologist, act=accepted)
    accepted.refresh_from_db()
    with pytest.raises(PermissionDenied):
        actions.do_join(actor=people.gp, act=accepted)
    assert audit_rows("rooms.join", people.gp) == [("denied", "act is reported")]


def test_a_fourth_person_finds_the_room_full(accepted, people, network, staff_factory):
    for user in (people.gp, people.nurse, people.cardiologist):
        actions.do_join(actor=user, act=accepted)
    second_nurse = staff_factory(role="nurse", site=network.spoke).user
    with pytest.raises(PermissionDenied, match="three participants"):
        actions.do_join(actor=second_nurse, act=accepted)
    # Whoever is already in (a second tab, a reconnection) is not counted against themselves.
    assert actions.do_join(actor=people.gp, act=accepted).present


def test_patient_ready_is_marked_by_the_site_and_shows_on_the_worklist(accepted, people, network):
    from caravane.telemed.actions import do_mark_patient_ready
    from caravane.telemed.selectors import worklist

    with pytest.raises(PermissionDenied):
        do_mark_patient_ready(actor=people.cardiologist, act=accepted)
    act = do_mark_patient_ready(actor=people.nurse, act=accepted)
    assert act.patient_ready_at is not None
    assert audit_rows("telemed.patient_ready", people.nurse) == [("allowed", "")]
    entries = worklist(people.cardiologist, hub=network.regional, specialty="cardiology")
    assert [e.act.patient_ready_at for e in entries] == [act.patient_ready_at]


def _observable(act, people):
    from caravane.telemed.actions import do_set_observable

    return do_set_observable(actor=people.cardiologist, act=act, observable=True)


def test_a_coordinator_observes_an_act_that_allows_it_without_taking_a_seat(accepted, people, network,
                                                                             staff_factory):
    act = _observable(accepted, people)
    assert selectors.participant_role(people.coordinator, act) == "observer"
    for user in (people.gp, people.nurse, people.cardiologist):
        actions.do_join(actor=user, act=act)
    # Three in the call, the room is full for a fourth participant, yet an observer still gets in.
    assert actions.do_join(actor=people.coordinator, act=act).present
    assert audit_rows("rooms.join", people.coordinator) == [("allowed", "")]
    assert audit_rows("telemed.set_observable", people.cardiologist) == [("allowed", "")]


def test_a_coordinator_of_another_area_is_refused_even_when_observers_are_allowed(accepted, people, network,
                                                                                   staff_factory):
    act = _observable(accepted, people)
    elsewhere = staff_factory(role="coordinator", coverage_region_id="94").user  # the other regional centre's
    with pytest.raises(PermissionDenied):
        actions.do_join(actor=elsewhere, act=act)
    assert audit_rows("rooms.join", elsewhere) == [("denied", "out of scope")]


def test_the_observer_flag_is_set_by_the_requesting_gp_or_the_specialist_only(accepted, people):
    from caravane.telemed.actions import do_set_observable

    assert do_set_observable(actor=people.gp, act=accepted, observable=True).observable
    assert not do_set_observable(actor=people.cardiologist, act=accepted, observable=False).observable
    for outsider in (people.nurse, people.coordinator, people.other_gp, people.paediatrician):
        with pytest.raises(PermissionDenied):
            do_set_observable(actor=outsider, act=accepted, observable=True)
    accepted.refresh_from_db()
    assert not accepted.observable
