"""Allergies (FHIR AllergyIntolerance, issue 10 point 4): coded with SNOMED CT or described, "no known allergy"
told apart from "not recorded", recorded by clinicians within their scope, audited, never deleted."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.care import actions, allergens
from caravane.care.models import AllergyIntolerance
from caravane.care.selectors import allergies_of

PENICILLIN, ASPIRIN = "373270004", "387458008"
NO_KNOWN = allergens.NO_KNOWN_ALLERGY.code


@pytest.fixture
def patient(team, patient_factory):
    return patient_factory(site=team["site"])


def _client(user):
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def test_not_recorded_no_known_allergy_and_an_allergy_are_three_states(team, patient):
    assert allergies_of(patient).state == "not_recorded"
    statement = actions.do_record_allergy(actor=team["nurse"], patient=patient, code=NO_KNOWN)
    assert allergies_of(patient).state == "none_known"
    assert statement.verification_status == "confirmed" and statement.system == allergens.SNOMED_CT

    allergy = actions.do_record_allergy(actor=team["gp"], patient=patient, code=PENICILLIN, criticality="high",
                                        reaction="Urticaria", verification_status="confirmed")
    known = allergies_of(patient)
    assert known.state == "listed" and known.allergies == (allergy,) and known.has_high_risk
    statement.refresh_from_db()
    assert statement.clinical_status == "inactive"  # an allergy ends "no known allergy"; the row stays
    assert (allergy.system, allergy.category, allergy.recorder) == (allergens.SNOMED_CT, "medication", team["gp"].staff)
    audit = AuditEvent.objects.filter(action="care.record_allergy", object_id=str(patient.pk))
    assert sorted(event.detail["code"] for event in audit) == sorted([NO_KNOWN, PENICILLIN])

    with pytest.raises(ValidationError, match="allergies on record"):
        actions.do_record_allergy(actor=team["gp"], patient=patient, code=NO_KNOWN)

    actions.do_change_allergy_status(actor=team["gp"], allergy=allergy, change="entered-in-error")
    assert allergies_of(patient).state == "not_recorded"  # the inactive statement does not come back by itself
    assert AllergyIntolerance.objects.filter(patient=patient).count() == 2
    with pytest.raises(ValidationError, match="no longer current"):
        actions.do_change_allergy_status(actor=team["gp"], allergy=allergy, change="resolved")


def test_an_uncoded_allergy_is_described_in_words(team, patient):
    allergy = actions.do_record_allergy(actor=team["nurse"], patient=patient, text="Métamizole (Novalgin)")
    assert (allergy.code, allergy.system, allergy.label) == ("", "", "Métamizole (Novalgin)")
    with pytest.raises(ValidationError) as refused:
        actions.do_record_allergy(actor=team["nurse"], patient=patient)
    assert list(refused.value.message_dict) == ["code"]
    with pytest.raises(ValidationError) as refused:
        actions.do_record_allergy(actor=team["nurse"], patient=patient, code="12345", criticality="deadly")
    assert set(refused.value.message_dict) == {"code", "criticality"}


def test_only_clinicians_in_scope_record_allergies(team, patient, site_factory, staff_factory):
    with pytest.raises(PermissionDenied):
        actions.do_record_allergy(actor=team["assistant"], patient=patient, code=ASPIRIN)
    elsewhere = staff_factory(role="gp", site=site_factory(name="CSR Ailleurs")).user
    with pytest.raises(PermissionDenied):
        actions.do_record_allergy(actor=elsewhere, patient=patient, code=ASPIRIN)
    assert not AllergyIntolerance.objects.exists()
    assert AuditEvent.objects.filter(action="care.record_allergy", outcome="denied").count() == 2


def test_allergies_through_the_api(team, patient, patient_factory, site_factory, staff_factory):
    gp = _client(team["gp"])
    url = f"/api/care/patients/{patient.pk}/allergies"
    assert gp.get(url).json() == []
    created = gp.post(url, {"code": ASPIRIN, "criticality": "high", "reaction": "Bronchospasm"},
                      content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["resourceType"] == "AllergyIntolerance" and body["display"] == "Aspirin (substance)"
    assert (body["clinical_status"], body["verification_status"]) == ("active", "unconfirmed")
    refused = gp.post(url, {"code": "not-a-code"}, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "code"

    # Another patient's allergy is not reachable through this patient's address.
    other = patient_factory(site=team["site"], given_name="Aicha")
    foreign = actions.do_record_allergy(actor=team["gp"], patient=other, code=PENICILLIN)
    assert gp.post(f"{url}/{foreign.pk}/status", {"change": "resolved"},
                   content_type="application/json").status_code == 404
    foreign.refresh_from_db()
    assert foreign.clinical_status == "active"
    changed = gp.post(f"{url}/{body['id']}/status", {"change": "resolved"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["clinical_status"] == "resolved"

    # Out of scope: refused before the input is read, audited.
    elsewhere = _client(staff_factory(role="gp", site=site_factory(name="CSR Ailleurs")).user)
    assert elsewhere.get(url).status_code == 403
    assert elsewhere.post(url, {"code": ASPIRIN}, content_type="application/json").status_code == 403
    assert AllergyIntolerance.objects.filter(patient=patient).count() == 1
    codes = {row["code"] for row in gp.get("/api/care/allergens").json()}
    assert {PENICILLIN, ASPIRIN, NO_KNOWN} <= codes


def test_allergies_recorded_from_the_visit_and_the_chart_pages(team, visit_at_gp):
    gp, patient = _client(team["gp"]), visit_at_gp.patient
    response = gp.post(reverse("care:record_allergy", args=[patient.pk]),
                       {"visit": visit_at_gp.pk, "code": PENICILLIN, "criticality": "high",
                        "reason": "Sore throat"})  # the note came along
    assert response.status_code == 302 and response["Location"].endswith(f"/care/visits/{visit_at_gp.pk}/#allergies")
    allergy = AllergyIntolerance.objects.get()
    assert allergy.encounter == visit_at_gp
    visit_at_gp.refresh_from_db()
    assert visit_at_gp.reason == "Sore throat"
    page = gp.get(response["Location"]).content.decode()
    assert 'data-allergy="373270004"' in page and "Penicillins" in page and "high risk" in page

    chart = reverse("care:record_allergy", args=[patient.pk])
    answer = gp.post(chart, {"code": "", "text": ""})
    assert answer.status_code == 302 and answer["Location"].endswith("/chart/#allergies")
    assert AllergyIntolerance.objects.count() == 1
    gp.post(reverse("care:change_allergy", args=[patient.pk, allergy.pk]), {"change": "entered-in-error"})
    allergy.refresh_from_db()
    assert allergy.verification_status == "entered-in-error"
    page = gp.get(reverse("care:chart", args=[patient.pk])).content.decode()
    assert "allergies-not_recorded" in page and f'data-allergy-row="{allergy.pk}" class="withdrawn"' in page
