"""Real FHIR clients (fhirpy, sync and async, and SMART's fhirclient) against a live server process on this
worktree's port range: search, read with includes, create, transaction; every answer validated."""

from __future__ import annotations

import asyncio
import datetime
import json

import pytest

from caravane.fhir import systems
from tests.fhir.conftest import token_for, validate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def fhir_server(django_db_setup, tmp_path_factory):
    """uvicorn serving this checkout against the session's test database (it sees committed data only)."""
    from tests.browser.conftest import _running_server

    with _running_server(tmp_path_factory.mktemp("fhir") / "server.log") as server:
        yield server.url("/fhir/R4")


def _vital(encounter) -> dict:
    return {"status": "final", "category": [{"coding": [{"system": systems.OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": systems.LOINC, "code": "8867-4"}]},
            "subject": {"reference": f"Patient/{encounter.patient_id}"},
            "encounter": {"reference": f"Encounter/{encounter.pk}"},
            "valueQuantity": {"value": 88, "unit": "/min", "system": systems.UCUM, "code": "/min"}}


def _transaction(site) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:6f1c3c1e-0d8a-4a0e-9a51-6a0a2b1e7f01",
         "resource": {"resourceType": "Patient", "name": [{"family": "Ait Haddou", "given": ["Hmad"]}],
                      "gender": "male", "birthDate": "1950"},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Encounter", "status": "arrived",
                      "class": {"system": systems.ACT_CODE, "code": "AMB"},
                      "subject": {"reference": "urn:uuid:6f1c3c1e-0d8a-4a0e-9a51-6a0a2b1e7f01"},
                      "serviceProvider": {"reference": f"Organization/{site.pk}"}},
         "request": {"method": "POST", "url": "Encounter"}},
    ]}


def test_fhirpy_sync(fhir_server, network, people, patients, visit):
    from fhirpy import SyncFHIRClient

    client = SyncFHIRClient(fhir_server, authorization=f"Bearer {token_for(people['nurse'])}",
                            extra_headers={"Accept-Language": "en"})
    site = network["imilchil"]
    # A site's patients, a page at a time (fetch_all follows the next links).
    listed = client.resources("Patient").search(organization=f"Organization/{site.pk}").limit(1).fetch_all()
    assert sorted(p.id for p in listed) == sorted([str(patients["fatima"].pk), str(patients["itto"].pk)])
    for patient in listed:
        validate(patient.serialize())
    # One patient with their encounters.
    bundle = (client.resources("Patient").search(_id=str(patients["fatima"].pk))
              .revinclude("Encounter", "patient").fetch_raw())
    validate(dict(bundle))
    assert [(e.resource.resourceType, e.resource.id) for e in bundle.entry] == [
        ("Patient", str(patients["fatima"].pk)), ("Encounter", str(visit.pk))]
    # A vital sign.
    observation = client.resource("Observation", **_vital(visit))
    observation.save()
    validate(observation.serialize())
    assert observation.id and observation["valueQuantity"]["value"] == 88
    # A transaction with a patient and their encounter.
    answer = client.execute("", method="post", data=_transaction(site))
    validate(dict(answer))
    patient, encounter = (entry["resource"] for entry in answer["entry"])
    assert encounter["subject"]["reference"] == f"Patient/{patient['id']}"
    # Out of scope: the Talsint patient.
    from fhirpy.base.exceptions import ForbiddenError

    with pytest.raises(ForbiddenError) as refused:
        client.reference("Patient", str(patients["talsint"].pk)).to_resource()
    assert validate(json.loads(str(refused.value)))["issue"][0]["code"] == "forbidden"


def test_fhirpy_async(fhir_server, network, people, patients, visit):
    from fhirpy import AsyncFHIRClient

    token = token_for(people["nurse"])

    async def run():
        client = AsyncFHIRClient(fhir_server, authorization=f"Bearer {token}")
        found = await client.resources("Observation").search(patient=str(visit.patient_id), code="85354-9").fetch()
        assert [o["code"]["coding"][0]["code"] for o in found] == ["85354-9"]
        observation = client.resource("Observation", **_vital(visit))
        await observation.save()
        read = await client.reference("Observation", observation.id).to_resource()
        return [o.serialize() for o in found] + [read.serialize()]

    for body in asyncio.run(run()):
        validate(body)


def test_fhirclient(fhir_server, network, people, patients, visit):
    from fhirclient.models.encounter import Encounter
    from fhirclient.models.observation import Observation
    from fhirclient.models.patient import Patient
    from fhirclient.server import FHIRServer

    server = FHIRServer(None, base_uri=fhir_server + "/")
    server.session.headers["Authorization"] = f"Bearer {token_for(people['nurse'])}"
    found = Patient.where(struct={"family": "amr"}).perform_resources(server)
    assert [p.id for p in found] == [str(patients["fatima"].pk)]
    fatima = Patient.read(str(patients["fatima"].pk), server)
    assert fatima.birthDate.isostring == "1980-05-01"
    encounters = Encounter.where(struct={"patient": fatima.id}).perform_resources(server)
    assert [e.id for e in encounters] == [str(visit.pk)]
    created = Observation(_vital(visit) | {"resourceType": "Observation"}).create(server)
    validate(created)
    assert created["valueQuantity"]["code"] == "/min"
    today = datetime.date.today().isoformat()
    assert [e.id for e in Encounter.where(struct={"date": today}).perform_resources(server)] == [str(visit.pk)]
