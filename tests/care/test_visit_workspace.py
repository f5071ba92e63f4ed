"""The GP's visit as one workspace (issue 10, point 4): the note travels with every action, entries can be
removed or corrected until the visit closes (FHIR status changes, rows kept), and the page keeps its place."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.care import actions
from caravane.care.models import Condition, Encounter, MedicationRequest

NOTE = {"reason": "Fever for three days", "history": "No chronic disease", "examination": "Throat red",
        "assessment": "Pharyngitis", "plan": "Paracetamol, review in a week", "referral_to": "",
        "referral_letter": ""}
LINE = {"medication": "Paracetamol 500 mg", "dose_value": "2", "dose_unit": "tablet", "route": "oral",
        "timing": "3/d", "duration_days": "5", "instructions": "with meals"}


@pytest.fixture
def gp(team):
    client = Client(headers={"accept-language": "en"})
    client.force_login(team["gp"])
    return client


def _visit_url(encounter, name="care:visit", *args):
    return reverse(name, args=[encounter.pk, *args])


def _close(team, visit):
    visit = actions.do_save_note(actor=team["gp"], encounter=Encounter.objects.get(pk=visit.pk), reason="Fever")
    return actions.do_close_visit(actor=team["gp"], encounter=visit)


def test_the_typed_note_survives_adding_a_diagnosis(gp, visit_at_gp):
    response = gp.post(_visit_url(visit_at_gp, "care:diagnosis"), {**NOTE, "icd10_code": "J02.9 — Acute pharyngitis"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/care/visits/{visit_at_gp.pk}/#diagnoses")  # the place on the page
    visit = Encounter.objects.get(pk=visit_at_gp.pk)
    assert (visit.reason, visit.plan) == (NOTE["reason"], NOTE["plan"])
    assert visit.conditions.get().icd10_code == "J02.9"
    page = gp.get(response["Location"]).content.decode()
    assert "Fever for three days</textarea>" in page
    actions_written = list(AuditEvent.objects.filter(object_id=str(visit.pk)).values_list("action", flat=True))
    assert actions_written.count("care.save_note") == 1 and actions_written.count("care.add_diagnosis") == 1


def test_the_note_is_saved_even_when_the_action_it_came_with_is_refused(gp, visit_at_gp):
    response = gp.post(_visit_url(visit_at_gp, "care:prescription"), {**NOTE, **LINE, "dose_value": "abc"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The note was saved; this was not:" in page and 'data-field="dose_value"' in page
    assert 'value="Paracetamol 500 mg"' in page  # the refused line is shown again as typed
    assert Encounter.objects.get(pk=visit_at_gp.pk).reason == NOTE["reason"]
    assert not MedicationRequest.objects.exists()


def test_an_unchanged_note_is_not_saved_again(gp, visit_at_gp, team):
    actions.do_save_note(actor=team["gp"], encounter=visit_at_gp, **{k: v for k, v in NOTE.items() if k != "referral_to"})
    before = AuditEvent.objects.filter(action="care.save_note").count()
    assert gp.post(_visit_url(visit_at_gp, "care:prescription"), {**NOTE, **LINE}).status_code == 302
    assert AuditEvent.objects.filter(action="care.save_note").count() == before
    assert MedicationRequest.objects.get().dose_unit == "tablet"


def test_a_carried_note_is_saved_before_the_visit_is_closed(gp, visit_at_gp):
    response = gp.post(_visit_url(visit_at_gp, "care:close"), NOTE)
    assert response.status_code == 302 and response["Location"].endswith("#signed")
    visit = Encounter.objects.get(pk=visit_at_gp.pk)
    assert visit.is_signed and visit.examination == NOTE["examination"]


def test_a_diagnosis_is_removed_and_corrected_until_the_visit_closes(gp, team, visit_at_gp):
    wrong = actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="J20.9")
    typo = actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, text="Angine")

    response = gp.post(_visit_url(visit_at_gp, "care:remove_diagnosis", wrong.pk))
    assert response.status_code == 302 and response["Location"].endswith("#diagnoses")
    wrong.refresh_from_db()
    assert wrong.verification_status == "entered-in-error" and wrong.retracted_by == team["gp"].staff
    assert AuditEvent.objects.filter(action="care.remove_diagnosis", object_id=str(visit_at_gp.pk)).count() == 1

    assert gp.post(_visit_url(visit_at_gp, "care:diagnosis"), {"replaces": typo.pk, "icd10_code": "J02.9",
                                                                "text": "Angine érythémateuse"}).status_code == 302
    corrected = Condition.objects.get(replaces=typo)
    assert (corrected.icd10_code, corrected.verification_status) == ("J02.9", "confirmed")
    typo.refresh_from_db()
    assert typo.verification_status == "entered-in-error"
    assert Condition.objects.count() == 3  # nothing deleted

    # Removing twice is refused; so is a correction of an entry of another visit.
    again = gp.post(_visit_url(visit_at_gp, "care:remove_diagnosis", wrong.pk))
    assert again.status_code == 400 and "already removed or corrected" in again.content.decode()

    summary = gp.get(_visit_url(visit_at_gp, "care:summary", "fr")).content.decode()
    assert "J02.9" in summary and "J20.9" not in summary  # the patient's paper shows what stands

    _close(team, visit_at_gp)
    with pytest.raises(ValidationError, match="closed"):
        actions.do_remove_condition(actor=team["gp"], condition=corrected)
    with pytest.raises(ValidationError, match="closed"):
        actions.do_correct_condition(actor=team["gp"], condition=corrected, icd10_code="J03.9")
    refused = gp.post(_visit_url(visit_at_gp, "care:remove_diagnosis", corrected.pk))
    assert refused.status_code == 400 and "add an amendment" in refused.content.decode()
    corrected.refresh_from_db()
    assert corrected.verification_status == "confirmed"


def test_a_prescription_is_removed_and_corrected_until_the_visit_closes(gp, team, visit_at_gp):
    line = actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, **LINE)
    other = actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, **{**LINE, "medication": "Amoxicillin 1 g"})

    response = gp.post(_visit_url(visit_at_gp, "care:prescription"),
                       {**LINE, "prior_prescription": line.pk, "dose_value": "1"})
    assert response.status_code == 302 and response["Location"].endswith("#prescriptions")
    corrected = MedicationRequest.objects.get(prior_prescription=line)
    assert corrected.dose_value == 1 and corrected.status == "active"
    line.refresh_from_db()
    assert line.status == "cancelled"

    assert gp.post(_visit_url(visit_at_gp, "care:remove_prescription", other.pk)).status_code == 302
    other.refresh_from_db()
    assert other.status == "entered-in-error"
    assert AuditEvent.objects.filter(action__in=["care.correct_prescription", "care.remove_prescription"]).count() == 2

    page = gp.get(_visit_url(visit_at_gp)).content.decode()
    assert f'data-prescription="{other.pk}" class="withdrawn"' in page and "Entered in error" in page
    api = gp.get(f"/api/care/encounters/{visit_at_gp.pk}/medication-requests").json()
    assert {(row["medication"], row["status"]) for row in api} == {
        ("Paracetamol 500 mg", "cancelled"), ("Paracetamol 500 mg", "active"), ("Amoxicillin 1 g", "entered-in-error")}

    _close(team, visit_at_gp)
    with pytest.raises(ValidationError, match="closed"):
        actions.do_remove_prescription(actor=team["gp"], request=corrected)
    assert gp.post(f"/api/care/encounters/{visit_at_gp.pk}/medication-requests/{corrected.pk}/entered-in-error"
                   ).status_code == 400
    corrected.refresh_from_db()
    assert corrected.status == "active"


def test_an_entry_of_another_visit_cannot_be_reached_through_this_one(gp, team, visit_at_gp, patient_factory):
    other_patient = patient_factory(site=team["site"], given_name="Aicha")
    other = actions.do_check_in(actor=team["assistant"], patient=other_patient, site=team["site"])
    actions.do_advance(actor=team["nurse"], encounter=other, to="with_nurse")
    other = actions.do_advance(actor=team["nurse"], encounter=other, to="with_gp")
    foreign = actions.do_add_diagnosis(actor=team["gp"], encounter=other, icd10_code="I10")
    assert gp.post(_visit_url(visit_at_gp, "care:remove_diagnosis", foreign.pk)).status_code == 404
    assert gp.post(_visit_url(visit_at_gp, "care:diagnosis"), {"replaces": foreign.pk, "icd10_code": "I10"}
                   ).status_code == 404
    assert gp.post(f"/api/care/encounters/{visit_at_gp.pk}/conditions/{foreign.pk}/entered-in-error").status_code == 404
    foreign.refresh_from_db()
    assert foreign.verification_status == "confirmed"


def test_a_nurse_may_not_remove_a_diagnosis(team, visit_at_gp):
    condition = actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="I10")
    nurse = Client(headers={"accept-language": "en"})
    nurse.force_login(team["nurse"])
    assert nurse.post(_visit_url(visit_at_gp, "care:remove_diagnosis", condition.pk)).status_code == 403
    condition.refresh_from_db()
    assert condition.is_active


def test_a_prescription_line_needs_a_dose_and_a_timing_from_the_lists(team, visit_at_gp):
    with pytest.raises(ValidationError) as refused:
        actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, **{**LINE, "dose_value": "", "dose_unit": "pint",
                                                                         "timing": "sometimes"})
    assert set(refused.value.message_dict) == {"dose_value", "dose_unit", "timing"}
    with pytest.raises(ValidationError) as refused:
        actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, **{**LINE, "dose_value": "0.125"})
    assert list(refused.value.message_dict) == ["dose_value"]
    line = actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, **{**LINE, "dose_value": "0,5"})
    line.refresh_from_db()
    assert str(line.dose_value) == "0.50"


def test_the_visit_header_shows_age_sex_and_that_allergies_were_not_recorded(gp, visit_at_gp):
    page = gp.get(_visit_url(visit_at_gp)).content.decode()
    header = page[page.index('<header class="visit-head'):page.index("</header>", page.index('<header class="visit-head'))]
    assert "Female" in header and " years</span>" in header and "01/05/1980" in header
    assert "allergies-not_recorded" in header and "not recorded" in header
    assert visit_at_gp.service_date.strftime("%d/%m/%Y") in header  # one date format: day/month/year
