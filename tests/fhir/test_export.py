"""$export: asynchronous through the task queue, NDJSON per type, narrowed to a province, for its requester only."""

from __future__ import annotations

import json

from caravane.audit.models import AuditEvent
from tests.fhir.conftest import Fhir, token_for


def test_bulk_export_of_a_province(client, people, network, patients, visit, settings, tmp_path):
    from caravane.tasks.worker import drain

    settings.CARAVANE = settings.CARAVANE.__class__(**{**settings.CARAVANE.__dict__, "data_dir": tmp_path})
    admin = Fhir(client, token_for(people["admin"]))
    province = network["imilchil"].commune.province_id
    assert admin.get("$export", province=province).status_code == 400  # not asked asynchronously
    assert admin.get("$export", headers={"Prefer": "respond-async"}, _type="Basic").status_code == 400
    kick_off = admin.get("$export", headers={"Prefer": "respond-async"}, province=province,
                         _type="Patient,Encounter,Observation")
    assert kick_off.status_code == 202
    status_path = kick_off["Content-Location"].split("/fhir/R4/")[1]
    assert admin.get(status_path).status_code == 202
    nurse = Fhir(client, token_for(people["nurse"]))
    assert nurse.get(status_path).status_code == 403
    assert drain() == 1
    manifest = json.loads(admin.client.get(f"/fhir/R4/{status_path}",
                                           HTTP_AUTHORIZATION=f"Bearer {admin.token}").content)
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    assert counts == {"Patient": 2, "Encounter": 1, "Observation": 4}  # Talsint's patient is another province
    for item in manifest["output"]:
        path = item["url"].split("/fhir/R4/")[1]
        response = admin.client.get(f"/fhir/R4/{path}", HTTP_AUTHORIZATION=f"Bearer {admin.token}")
        assert response["Content-Type"] == "application/fhir+ndjson"
        lines = response.content.decode().splitlines()
        assert len(lines) == item["count"]
        for line in lines:
            from tests.fhir.conftest import validate

            assert validate(json.loads(line))["resourceType"] == item["type"]
    row = AuditEvent.objects.filter(action="fhir.export").get()
    assert row.detail["patients"] == 2
