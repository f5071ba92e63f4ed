"""The visit's state machine, its audit trail, signing and amendments."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from caravane.audit.models import AuditEvent
from caravane.care import actions
from caravane.care.models import Amendment, Condition, Encounter, MedicationRequest, Observation, ImmutableRecordError


def audit_count(encounter):
    return AuditEvent.objects.filter(object_type="care.encounter", object_id=str(encounter.pk)).count()


def test_visit_walks_checked_in_nurse_gp_done_with_one_audit_row_per_step(team, patient_factory):
    patient = patient_factory(site=team["site"])
    encounter = actions.do_check_in(actor=team["assistant"], patient=patient, site=team["site"], priority="urgent")
    assert (encounter.status, encounter.priority, audit_count(encounter)) == ("checked_in", "urgent", 1)
    encounter = actions.do_advance(actor=team["nurse"], encounter=encounter, to="with_nurse")
    assert encounter.nurse_started_at and encounter.nurse.user == team["nurse"]
    actions.do_record_vitals(actor=team["nurse"], encounter=encounter, values={"systolic": "150", "diastolic": "95"})
    encounter = actions.do_advance(actor=team["nurse"], encounter=encounter, to="with_gp")
    actions.do_save_note(actor=team["gp"], encounter=encounter, reason="Headache", assessment="Hypertension")
    actions.do_add_diagnosis(actor=team["gp"], encounter=encounter, icd10_code="I10")
    actions.do_prescribe(actor=team["gp"], encounter=encounter, medication="Amlodipine 5 mg", dose="1 tablet",
                         route="oral", frequency="once daily", duration_days=30)
    encounter = actions.do_close_visit(actor=team["gp"], encounter=encounter)
    assert encounter.status == "done" and encounter.signed_by.user == team["gp"] and encounter.finished_at
    assert audit_count(encounter) == 8
    systolic = Observation.objects.get(encounter=encounter, code="8480-6")
    assert (systolic.value, systolic.unit, systolic.interpretation, systolic.panel) == (150, "mm[Hg]", "H", "85354-9")


@pytest.mark.parametrize("path, target", [
    ((), "with_gp"),  # the nurse cannot be skipped
    ((), "done"),
    (("with_nurse",), "checked_in"),  # no going back
    (("with_nurse",), "done"),
    (("with_nurse", "with_gp"), "with_nurse"),
    (("with_nurse", "with_gp"), "done"),  # closing signs, through do_close_visit only
    ((), "nonsense"),
])
def test_invalid_transitions_are_refused_and_change_nothing(team, patient_factory, path, target):
    encounter = actions.do_check_in(actor=team["assistant"], patient=patient_factory(site=team["site"]),
                                    site=team["site"])
    for step in path:
        encounter = actions.do_advance(actor=team["gp"], encounter=encounter, to=step)
    before = (encounter.status, audit_count(encounter))
    with pytest.raises((ValidationError, PermissionDenied)):
        actions.do_advance(actor=team["gp"], encounter=encounter, to=target)
    encounter.refresh_from_db()
    assert encounter.status == before[0]
    assert AuditEvent.objects.filter(object_id=str(encounter.pk), outcome="allowed").count() == before[1]


def test_closed_visit_cannot_move(visit_at_gp, team):
    actions.do_save_note(actor=team["gp"], encounter=visit_at_gp, reason="Cough")
    closed = actions.do_close_visit(actor=team["gp"], encounter=visit_at_gp)
    with pytest.raises(ValidationError):
        actions.do_advance(actor=team["gp"], encounter=closed, to="with_gp")
    with pytest.raises(ValidationError):
        actions.do_close_visit(actor=team["gp"], encounter=closed)


def test_closing_needs_a_reason(visit_at_gp, team):
    with pytest.raises(ValidationError) as refused:
        actions.do_close_visit(actor=team["gp"], encounter=visit_at_gp)
    assert "reason" in refused.value.message_dict
    visit_at_gp.refresh_from_db()
    assert visit_at_gp.status == "with_gp" and not visit_at_gp.is_signed


def test_roles_are_enforced_with_a_denied_audit_row(visit_at_gp, team):
    with pytest.raises(PermissionDenied):
        actions.do_add_diagnosis(actor=team["nurse"], encounter=visit_at_gp, icd10_code="I10")
    with pytest.raises(PermissionDenied):
        actions.do_record_vitals(actor=team["assistant"], encounter=visit_at_gp, values={"spo2": "97"})
    denied = AuditEvent.objects.filter(object_id=str(visit_at_gp.pk), outcome="denied")
    assert sorted(denied.values_list("action", flat=True)) == ["care.add_diagnosis", "care.record_vitals"]
    assert not Condition.objects.exists()


def test_check_in_at_a_site_out_of_scope_is_refused(team, site_factory, patient_factory, staff_factory):
    other = site_factory(name="Elsewhere")
    with pytest.raises(PermissionDenied):
        actions.do_check_in(actor=team["assistant"], patient=patient_factory(site=team["site"]), site=other)
    assert not Encounter.objects.exists()
    assert AuditEvent.objects.filter(action="care.check_in", outcome="denied").count() == 1


def test_double_check_in_is_refused(team, patient_factory):
    patient = patient_factory(site=team["site"])
    actions.do_check_in(actor=team["assistant"], patient=patient, site=team["site"])
    with pytest.raises(ValidationError) as refused:
        actions.do_check_in(actor=team["assistant"], patient=patient, site=team["site"])
    assert "patient" in refused.value.message_dict
    assert Encounter.objects.count() == 1


def test_impossible_vitals_save_nothing(visit_at_gp, team):
    from caravane.care.vitals import VitalsError

    before = (Observation.objects.count(), AuditEvent.objects.count())
    with pytest.raises(VitalsError) as refused:
        actions.do_record_vitals(actor=team["gp"], encounter=visit_at_gp,
                                 values={"systolic": "400", "diastolic": "80", "heart_rate": "72"})
    assert "Systolic blood pressure" in refused.value.errors["systolic"]
    assert (Observation.objects.count(), AuditEvent.objects.count()) == before


def test_signed_note_is_frozen_and_amendments_append(visit_at_gp, team):
    actions.do_save_note(actor=team["gp"], encounter=visit_at_gp, reason="Cough", assessment="Bronchitis")
    actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, medication="Amoxicillin", dose="1 g",
                         route="oral", frequency="twice daily", duration_days=7)
    closed = actions.do_close_visit(actor=team["gp"], encounter=visit_at_gp)

    with pytest.raises(ValidationError):
        actions.do_save_note(actor=team["gp"], encounter=closed, assessment="Pneumonia")
    with pytest.raises(ValidationError):
        actions.do_add_diagnosis(actor=team["gp"], encounter=closed, icd10_code="J18.9")
    with pytest.raises(ValidationError):
        actions.do_record_vitals(actor=team["gp"], encounter=closed, values={"spo2": "95"})
    closed.assessment = "Pneumonia"
    with pytest.raises(ImmutableRecordError):
        closed.save()
    with pytest.raises(ImmutableRecordError):
        MedicationRequest.objects.get(encounter=closed).save()
    with pytest.raises(ImmutableRecordError):
        Observation.objects.filter(encounter=closed).first().delete()

    with pytest.raises(ValidationError) as refused:
        actions.do_amend(actor=team["gp"], encounter=closed, reason="", text="x")
    assert "reason" in refused.value.message_dict
    first = actions.do_amend(actor=team["gp"], encounter=closed, reason="Chest X-ray result",
                             text="Assessment corrected: community-acquired pneumonia.")
    actions.do_amend(actor=team["gp"], encounter=closed, reason="Typo", text="Amoxicillin 1 g three times daily.")
    closed.refresh_from_db()
    assert closed.assessment == "Bronchitis"  # the signed text stays as signed
    assert list(Amendment.objects.filter(encounter=closed).values_list("reason", flat=True)) == [
        "Chest X-ray result", "Typo"]
    first.text = "rewritten"
    with pytest.raises(ImmutableRecordError):
        first.save()


def test_amending_an_unsigned_note_is_refused(visit_at_gp, team):
    with pytest.raises(ValidationError):
        actions.do_amend(actor=team["gp"], encounter=visit_at_gp, reason="r", text="t")
    assert not Amendment.objects.exists()


def test_prescription_fields_are_checked_by_name(visit_at_gp, team):
    with pytest.raises(ValidationError) as refused:
        actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, medication="", dose="1", route="nasal",
                             frequency="daily", duration_days="0")
    assert set(refused.value.message_dict) == {"medication", "route", "duration_days"}
    assert not MedicationRequest.objects.exists()


def test_mobile_unit_check_in_names_the_stop(site_factory, staff_factory, patient_factory, commune_factory):
    from caravane.network.models import Site

    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, name="UMM 07")
    assistant = staff_factory(role="assistant", site=unit).user
    stop = commune_factory(name="Douar Tizi")
    encounter = actions.do_check_in(actor=assistant, patient=patient_factory(site=unit), site=unit, stop_commune=stop)
    assert encounter.stop_commune == stop
    centre = site_factory(name="CSR")
    helper = staff_factory(role="assistant", site=centre).user
    with pytest.raises(ValidationError) as refused:
        actions.do_check_in(actor=helper, patient=patient_factory(site=centre), site=centre, stop_commune=stop)
    assert "stop_commune" in refused.value.message_dict


def test_database_keeps_one_open_visit_per_patient_site_and_day(team, patient_factory):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    encounter = actions.do_check_in(actor=team["assistant"], patient=patient_factory(site=team["site"]),
                                    site=team["site"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Encounter.objects.create(patient=encounter.patient, site=encounter.site, service_date=encounter.service_date,
                                 checked_in_at=timezone.now(), checked_in_by=encounter.checked_in_by)
