"""The CapabilityStatement tells the truth: every interaction, search parameter, include and operation it lists
is served (exercised here one by one), and what it does not list is refused."""

from __future__ import annotations

import uuid

from caravane.fhir.server.resource import REGISTRY
from tests.fhir.conftest import Fhir, token_for

SAMPLE = {"token": "x", "string": "a", "date": "2020", "reference": str(uuid.uuid4())}


def test_metadata_is_public_and_lists_every_registered_type(client):
    response = Fhir(client, None).get("metadata")
    assert response.status_code == 200
    statement = response.body
    assert statement["fhirVersion"] == "4.0.1"
    assert {r["type"] for r in statement["rest"][0]["resource"]} == set(REGISTRY) >= {
        "Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Encounter", "Observation",
        "Condition", "MedicationRequest", "Consent", "ServiceRequest", "Task", "Appointment", "Slot", "Schedule",
        "Communication", "DiagnosticReport", "AuditEvent", "Device", "MedicationDispense"}


def test_every_advertised_capability_works(client, full_record, people):
    admin = Fhir(client, token_for(people["admin"]))
    statement = admin.get("metadata").body
    for resource in statement["rest"][0]["resource"]:
        kind = resource["type"]
        interactions = {i["code"] for i in resource["interaction"]}
        listed = admin.get(kind)
        assert listed.status_code == 200, (kind, listed.body)
        assert listed.body.get("entry"), f"the full record has no {kind}"
        one = listed.body["entry"][0]["resource"]
        read = admin.get(f"{kind}/{one['id']}")
        assert read.status_code == 200 and read.body["id"] == one["id"], kind
        for param in resource.get("searchParam", []):
            value = one["id"] if param["name"] == "_id" else SAMPLE[param["type"]]
            answer = admin.get(kind, **{param["name"]: value})
            assert answer.status_code == 200, (kind, param["name"], answer.body)
            if param["name"] == "_id":
                assert [e["resource"]["id"] for e in answer.body["entry"]] == [one["id"]]
        for include in resource.get("searchInclude", []):
            assert admin.get(kind, _include=include).status_code == 200, (kind, include)
        for include in resource.get("searchRevInclude", []):
            assert admin.get(kind, _revinclude=include).status_code == 200, (kind, include)
        for operation in resource.get("operation", []):
            assert admin.get(f"{kind}/{one['id']}/${operation['name']}").status_code == 200, (kind, operation)
        # Writes are refused as unsupported only where the statement does not list them.
        created = admin.post(kind, {"resourceType": kind})
        assert (created.status_code == 405) == ("create" not in interactions), (kind, created.status_code)
        updated = admin.put(f"{kind}/{one['id']}", {"resourceType": kind, "id": one["id"]})
        assert (updated.status_code == 405) == ("update" not in interactions), (kind, updated.status_code)
        assert admin.get(kind, unknown_parameter="1").status_code == 400
        assert (admin.get(f"{kind}/{one['id']}/_history").status_code != 404) == ("history-instance" in interactions)


def test_everything_gathers_the_patient_compartment(gp_fhir, full_record):
    response = gp_fhir.get(f"Patient/{full_record.patient_id}/$everything")
    assert response.status_code == 200
    kinds = {e["resource"]["resourceType"] for e in response.body["entry"]}
    assert kinds == {"Patient", "Encounter", "Observation", "Condition", "MedicationRequest", "MedicationDispense",
                     "Consent"}
