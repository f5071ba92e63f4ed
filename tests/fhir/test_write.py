"""Writes through the application's actions: the same checks, one audit row each; transactions all or nothing."""

from __future__ import annotations

from caravane.audit.models import AuditEvent
from caravane.care.models import Encounter, Observation
from caravane.fhir import systems
from caravane.patients.models import Patient


def _new_patient(site, **extra) -> dict:
    return {"resourceType": "Patient", "name": [{"family": "Ouchen", "given": ["Yamna"]}], "gender": "female",
            "birthDate": "1992", "managingOrganization": {"reference": f"Organization/{site.pk}"},
            "identifier": [{"system": systems.CIN, "value": "PA99887"}], **extra}


def _vital(encounter, code: str, value, unit: str) -> dict:
    return {"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": systems.OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": systems.LOINC, "code": code}]},
            "subject": {"reference": f"Patient/{encounter.patient_id}"},
            "encounter": {"reference": f"Encounter/{encounter.pk}"},
            "valueQuantity": {"value": value, "unit": unit, "system": systems.UCUM, "code": unit}}


def test_create_patient_registers_through_the_action(nurse_fhir, network):
    before = AuditEvent.objects.count()
    response = nurse_fhir.post("Patient", _new_patient(network["imilchil"]))
    assert response.status_code == 201, response.body
    patient = Patient.objects.get(pk=response.body["id"])
    assert (patient.family_name, patient.national_id, patient.birth_date_is_estimated) == ("Ouchen", "PA99887", True)
    assert response["Location"].endswith(f"Patient/{patient.pk}/_history/{response.body['meta']['versionId']}")
    assert list(AuditEvent.objects.filter(sequence__gt=before).values_list("action", "object_id")) == [
        ("register", str(patient.pk))]
    # The same person again: the look-alike check of the registration page answers.
    again = nurse_fhir.post("Patient", _new_patient(network["imilchil"], identifier=[]))
    assert again.status_code == 409 and again.body["issue"][0]["code"] == "duplicate"
    assert f"Patient/{patient.pk}" in again.body["issue"][0]["diagnostics"]


def test_create_patient_refusals_say_why(nurse_fhir, network, patients):
    wrong_site = nurse_fhir.post("Patient", _new_patient(network["talsint"]))
    assert wrong_site.status_code == 422 and wrong_site.body["issue"][0]["expression"] == ["Patient.registration_site"]
    bad_cin = nurse_fhir.post("Patient", _new_patient(network["imilchil"], identifier=[
        {"system": systems.CIN, "value": "12"}]))
    assert bad_cin.status_code == 422
    kept = nurse_fhir.post("Patient", _new_patient(network["imilchil"], deceasedBoolean=False))
    assert kept.status_code == 422 and "deceased" in kept.body["issue"][0]["diagnostics"]
    lenient = nurse_fhir.post("Patient", _new_patient(network["imilchil"], deceasedBoolean=False),
                              headers={"Prefer": "handling=lenient, return=OperationOutcome"})
    assert lenient.status_code == 201
    assert lenient.body["issue"][0]["severity"] == "warning" and "deceased" in lenient.body["issue"][0]["diagnostics"]
    not_fhir = nurse_fhir.post("Patient", {"resourceType": "Patient", "birthDate": "1st May"})
    assert not_fhir.status_code == 400 and not_fhir.body["issue"][0]["code"] == "structure"
    assert Patient.objects.filter(family_name="Ouchen").count() == 1


def test_update_patient_with_version_check(nurse_fhir, patients):
    fatima = patients["fatima"]
    current = nurse_fhir.get(f"Patient/{fatima.pk}")
    body = dict(current.body, telecom=[{"system": "phone", "value": "0612345678"}])
    stale = nurse_fhir.put(f"Patient/{fatima.pk}", body, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    updated = nurse_fhir.put(f"Patient/{fatima.pk}", body, headers={"If-Match": current["ETag"]})
    assert updated.status_code == 200, updated.body
    assert updated.body["telecom"][0]["value"] == "+212612345678"
    assert updated.body["meta"]["versionId"] != current.body["meta"]["versionId"]
    renumbered = dict(body, identifier=[{"system": systems.RECORD_NUMBER, "value": "X"}])
    assert nurse_fhir.put(f"Patient/{fatima.pk}", renumbered).status_code == 422
    other = nurse_fhir.put(f"Patient/{patients['talsint'].pk}", dict(body, id=str(patients["talsint"].pk)))
    assert other.status_code == 403


def test_create_vital_signs_through_the_nurse_action(nurse_fhir, visit):
    before = AuditEvent.objects.count()
    response = nurse_fhir.post("Observation", _vital(visit, "8310-5", 38.4, "Cel"))
    assert response.status_code == 201, response.body
    assert response.body["valueQuantity"]["value"] == 38.4 and response.body["interpretation"][0]["coding"][0]["code"]
    assert list(AuditEvent.objects.filter(sequence__gt=before).values_list("action", flat=True)) == [
        "care.record_vitals"]
    panel = _vital(visit, "85354-9", None, "mm[Hg]")
    del panel["valueQuantity"]
    panel["component"] = [{"code": {"coding": [{"system": systems.LOINC, "code": code}]},
                           "valueQuantity": {"value": value, "system": systems.UCUM, "code": "mm[Hg]"}}
                          for code, value in (("8480-6", 150), ("8462-4", 95))]
    created = nurse_fhir.post("Observation", panel)
    assert created.status_code == 201 and len(created.body["component"]) == 2


def test_vital_sign_refusals(nurse_fhir, visit, patients):
    impossible = nurse_fhir.post("Observation", _vital(visit, "8310-5", 60, "Cel"))
    assert impossible.status_code == 422 and "not physiologically possible" in impossible.body["issue"][0]["diagnostics"]
    wrong_unit = nurse_fhir.post("Observation", _vital(visit, "8310-5", 101, "[degF]"))
    assert wrong_unit.status_code == 422 and wrong_unit.body["issue"][0]["expression"] == ["Observation.valueQuantity"]
    unknown = nurse_fhir.post("Observation", _vital(visit, "2093-3", 200, "mg/dL"))
    assert unknown.status_code == 422 and unknown.body["issue"][0]["code"] == "code-invalid"
    other_patient = _vital(visit, "8310-5", 37, "Cel")
    other_patient["subject"] = {"reference": f"Patient/{patients['itto'].pk}"}
    assert nurse_fhir.post("Observation", other_patient).status_code == 422
    assert Observation.objects.filter(code="8310-5").count() == 0


def test_gp_without_vitals_rights_elsewhere_is_refused_before_validation(client, people, visit):
    from tests.fhir.conftest import Fhir, token_for

    talsint = Fhir(client, token_for(people["talsint_nurse"]))
    response = talsint.post("Observation", _vital(visit, "8310-5", 37, "Cel"))
    assert response.status_code == 403
    assert AuditEvent.objects.order_by("-sequence").first().outcome == "denied"


def test_create_encounter_checks_in(nurse_fhir, network, patients):
    body = {"resourceType": "Encounter", "status": "arrived",
            "class": {"system": systems.ACT_CODE, "code": "AMB"},
            "priority": {"coding": [{"system": systems.ACT_PRIORITY, "code": "UR"}]},
            "subject": {"reference": f"Patient/{patients['itto'].pk}"},
            "serviceProvider": {"reference": f"Organization/{network['imilchil'].pk}"}}
    response = nurse_fhir.post("Encounter", body)
    assert response.status_code == 201, response.body
    encounter = Encounter.objects.get(pk=response.body["id"])
    assert (encounter.status, encounter.priority) == ("checked_in", "urgent")
    twice = nurse_fhir.post("Encounter", body)
    assert twice.status_code == 422 and "already in today's queue" in twice.body["issue"][0]["diagnostics"]
    finished = nurse_fhir.post("Encounter", dict(body, status="finished"))
    assert finished.status_code == 422


def _transaction(site, *, encounter_status="arrived") -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0b1d8a52-6c6f-4b8e-9d52-1f7f6c1e2a10",
         "resource": {"resourceType": "Encounter", "status": encounter_status,
                      "class": {"system": systems.ACT_CODE, "code": "AMB"},
                      "subject": {"reference": "urn:uuid:4a0f6a53-4f3c-4a57-8d7e-2b8e4f1c9d21"},
                      "serviceProvider": {"reference": f"Organization/{site.pk}"}},
         "request": {"method": "POST", "url": "Encounter"}},
        {"fullUrl": "urn:uuid:4a0f6a53-4f3c-4a57-8d7e-2b8e4f1c9d21",
         "resource": {"resourceType": "Patient", "name": [{"family": "Aït Ali", "given": ["Moha"]}],
                      "gender": "male", "birthDate": "1961-03-02"},
         "request": {"method": "POST", "url": "Patient"}},
    ]}


def test_transaction_is_all_or_nothing(nurse_fhir, network):
    failing = nurse_fhir.post("", _transaction(network["imilchil"], encounter_status="finished"))
    assert failing.status_code == 422
    assert failing.body["issue"][0]["expression"][0] == "Bundle.entry[0]"
    assert not Patient.objects.filter(family_name="Aït Ali").exists()
    assert AuditEvent.objects.order_by("-sequence").first().outcome == "failed"
    before = AuditEvent.objects.count()
    response = nurse_fhir.post("", _transaction(network["imilchil"]))
    assert response.status_code == 200, response.body
    assert response.body["type"] == "transaction-response"
    encounter, patient = (entry["resource"] for entry in response.body["entry"])
    assert encounter["subject"]["reference"] == f"Patient/{patient['id']}"
    assert [entry["response"]["status"] for entry in response.body["entry"]] == ["201", "201"]
    assert sorted(AuditEvent.objects.filter(sequence__gt=before).values_list("action", flat=True)) == [
        "care.check_in", "register"]


def test_batch_answers_each_entry(nurse_fhir, network, patients):
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient/{patients['fatima'].pk}"}},
        {"request": {"method": "GET", "url": f"Patient/{patients['talsint'].pk}"}},
        {"request": {"method": "GET", "url": "Patient?family=oub"}},
        {"resource": {"resourceType": "Patient", "gender": "female"}, "request": {"method": "POST", "url": "Patient"}},
    ]}
    response = nurse_fhir.post("", bundle)
    assert response.status_code == 200
    assert [e["response"]["status"] for e in response.body["entry"]] == ["200", "403", "200", "422"]
    assert response.body["entry"][2]["resource"]["entry"][0]["resource"]["id"] == str(patients["itto"].pk)
