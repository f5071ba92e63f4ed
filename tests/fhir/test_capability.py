"""The CapabilityStatement tells the truth: every interaction, search parameter, include and operation it lists
is served (exercised here one by one), and what it does not list is refused."""

from __future__ import annotations

import uuid

from caravane.fhir.server.resource import REGISTRY
from caravane.fhir.server.search import sorts
from tests.fhir.conftest import Fhir, token_for
from tests.fhir.test_read_search import _page_ids

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


def test_every_sort_key_orders_and_pages(client, full_record, people):
    """Each type's sort keys are advertised, sort both ways, and a search paged two by two lists what one page
    lists; ``_lastUpdated`` orders as each resource's meta.lastUpdated says."""
    admin = Fhir(client, token_for(people["admin"]))
    statement = admin.get("metadata").body
    for resource in statement["rest"][0]["resource"]:
        kind = resource["type"]
        keys = list(sorts(REGISTRY[kind]))
        assert resource["documentation"].endswith("_sort keys (- before one: descending): " + ", ".join(keys) + "."), kind
        for key in keys:
            for order in (key, "-" + key):
                page = admin.get(kind, _sort=order, _count="100").body["entry"]
                whole = [entry["resource"]["id"] for entry in page]
                # The audit trail grows with each request (each page adds rows): it is not paged through here.
                if kind != "AuditEvent":
                    assert _page_ids(admin, kind, _sort=order, _count="2") == whole, (kind, order)
                if key == "_lastUpdated":
                    updated = [entry["resource"]["meta"]["lastUpdated"] for entry in page]
                    assert updated == sorted(updated, reverse=order.startswith("-")), (kind, order)


def test_patient_history_is_not_advertised(client, patients, people):
    """Patient rows keep no earlier versions (their updates are audited by field name only): no history."""
    statement = Fhir(client, None).get("metadata").body
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert patient["versioning"] == "no-version" and not patient.get("readHistory")
    assert not {"vread", "history-instance", "history-type"} & {i["code"] for i in patient["interaction"]}
    assert {i["code"] for i in statement["rest"][0]["interaction"]} == {"transaction", "batch"}
    gp = Fhir(client, token_for(people["gp"]))
    assert gp.get(f"Patient/{patients['fatima'].pk}/_history").status_code == 404
