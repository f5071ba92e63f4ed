import datetime

import pytest

from caravane.audit.models import AuditEvent
from caravane.patients.models import Consent, Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client_for, nurse):
    return client_for(nurse)


def new_patient(**overrides):
    payload = {"given_name": "Yassine", "family_name": "Bouzid", "given_name_ar": "ياسين", "family_name_ar": "بوزيد",
               "gender": "male", "birth_year": 1988, "national_id": "k 45678", "phone": "+212 6 70 11 22 33",
               "coverage_type": "amo", "coverage_number": "AMO-9", "coverage_valid_until": "2020-12-31"}
    payload.update(overrides)
    return payload


def test_create_then_read_a_patient_in_fhir_shape(api, nurse):
    response = api.post("/api/patients/", new_patient(), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["resourceType"] == "Patient" and body["birthDate"] == "1988" and body["birthDateEstimated"]
    assert {"system": "urn:ma:cin", "value": "K45678"} in body["identifier"]
    assert body["telecom"] == ["+212670112233"]
    assert body["coverage"]["status"] == "lapsed"
    assert [n["language"] for n in body["name"]] == ["fr", "ar"]
    read = api.get(f"/api/patients/{body['id']}")
    assert read.status_code == 200 and read.json()["record_number"] == body["record_number"]
    assert AuditEvent.objects.filter(action="view", object_id=body["id"], actor=nurse.user).exists()


def test_bad_input_names_the_field_and_saves_nothing(api, today):
    future = (today + datetime.timedelta(days=1)).isoformat()
    response = api.post("/api/patients/", new_patient(birth_year=None, birth_date=future, national_id="12AB",
                                                      phone="0912"), content_type="application/json")
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"birth_date", "national_id", "phone"} <= fields
    assert not Patient.objects.exists()


def test_look_alikes_answer_409_until_confirmed(api, register):
    register(given_name="Yacine", family_name="Bouzid", birth_date=datetime.date(1988, 7, 1),
             birth_date_is_estimated=True)
    payload = new_patient(national_id="", phone="")
    response = api.post("/api/patients/", payload, content_type="application/json")
    assert response.status_code == 409 and len(response.json()["duplicates"]) == 1
    assert Patient.objects.count() == 1
    response = api.post("/api/patients/", {**payload, "confirm_new": True}, content_type="application/json")
    assert response.status_code == 201 and Patient.objects.count() == 2


def test_search_is_scoped_ranked_and_audited(api, register, other_site, nurse):
    here = register(given_name="Mohamed", family_name="Chakiri")
    register(given_name="Mohamed", family_name="Chakiri", at=other_site)
    response = api.get("/api/patients/", {"q": "محمد شكيري"})
    assert response.status_code == 200
    assert [row["patient"]["id"] for row in response.json()] == [str(here.pk)]
    assert AuditEvent.objects.filter(action="search", actor=nurse.user).exists()


def test_another_sites_patient_is_403_with_an_audit_row(client_for, outsider, register):
    patient = register(given_name="Laila")
    response = client_for(outsider).get(f"/api/patients/{patient.pk}")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(object_id=str(patient.pk), outcome="denied", actor=outsider.user).exists()
    response = client_for(outsider).post(f"/api/patients/{patient.pk}/consents",
                                         {"acts": ["teleconsultation"], "method": "signed_paper"},
                                         content_type="application/json")
    assert response.status_code == 403 and not Consent.objects.exists()


def test_consents_are_recorded_listed_and_revoked(api, register):
    patient = register(given_name="Nadia", gender="female")
    response = api.post(f"/api/patients/{patient.pk}/consents", {"acts": ["teleconsultation"], "method": "oral"},
                        content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "witness_name"
    response = api.post(f"/api/patients/{patient.pk}/consents",
                        {"acts": ["teleconsultation", "telemonitoring"], "method": "oral", "witness_name": "Hafsa"},
                        content_type="application/json")
    assert response.status_code == 201 and response.json()["status"] == "active"
    consent_id = response.json()["id"]
    revoked = api.post(f"/api/patients/consents/{consent_id}/revoke", {"reason": "moved away"},
                       content_type="application/json")
    assert revoked.status_code == 200 and revoked.json()["status"] == "inactive"
    listed = api.get(f"/api/patients/{patient.pk}/consents").json()
    assert [c["id"] for c in listed] == [consent_id] and listed[0]["revoked_on"]


def test_duplicate_check_endpoint_serves_the_registration_page(api, register):
    existing = register(given_name="Abdelaziz", family_name="El Idrissi")
    response = api.get("/api/patients/duplicates", {"given_name_ar": "عبد العزيز", "family_name_ar": "الإدريسي"})
    assert response.status_code == 200
    assert [row["patient"]["id"] for row in response.json()] == [str(existing.pk)]


def test_duplicate_check_finds_a_cin_typed_loosely(api, register):
    existing = register(given_name="Rkia", gender="female", national_id="JB998877")
    response = api.get("/api/patients/duplicates", {"national_id": "jb 998877", "phone": "06"})
    assert [row["patient"]["id"] for row in response.json()] == [str(existing.pk)]
