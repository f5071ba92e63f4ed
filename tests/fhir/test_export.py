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


def _exported(admin, settings, tmp_path, headers=None, **params) -> tuple[dict, dict[str, list[dict]]]:
    """Run an export to its end: its manifest, and each file's resources (each validated) by file type."""
    from caravane.tasks.worker import drain
    from tests.fhir.conftest import validate

    settings.CARAVANE = settings.CARAVANE.__class__(**{**settings.CARAVANE.__dict__, "data_dir": tmp_path})
    kick_off = admin.get("$export", headers={"Prefer": "respond-async", **(headers or {})}, **params)
    assert kick_off.status_code == 202, kick_off.body
    status_path = kick_off["Content-Location"].split("/fhir/R4/")[1]
    assert drain() == 1
    manifest = json.loads(admin.client.get(f"/fhir/R4/{status_path}", HTTP_AUTHORIZATION=f"Bearer {admin.token}").content)
    files = {}
    for item in manifest["output"] + manifest["error"]:
        content = admin.client.get(f"/fhir/R4/{item['url'].split('/fhir/R4/')[1]}",
                                   HTTP_AUTHORIZATION=f"Bearer {admin.token}").content
        files[item["type"]] = [validate(json.loads(line)) for line in content.decode().splitlines()]
        assert len(files[item["type"]]) == item["count"]
        assert {body["resourceType"] for body in files[item["type"]]} <= {item["type"]}
    return manifest, files


def test_bulk_export_carries_every_type_of_patient_or_network_data(client, people, network, full_record, settings,
                                                                   tmp_path):
    from caravane.fhir.actions import exportable_types
    from caravane.fhir.server.resource import REGISTRY

    admin = Fhir(client, token_for(people["admin"]))
    assert set(exportable_types()) == set(REGISTRY) - {"AuditEvent"}  # the trail is an access log, not a record
    export = next(op for op in admin.get("metadata").body["rest"][0]["operation"] if op["name"] == "export")
    assert ", ".join(exportable_types()) in export["documentation"]
    manifest, files = _exported(admin, settings, tmp_path, province=network["imilchil"].commune.province_id)
    assert {item["type"] for item in manifest["output"]} == set(exportable_types()) and manifest["error"] == []
    assert {d["serialNumber"] for d in files["Device"]} == {"BP-0001", "ECG-0001"}
    assert len(files["MedicationDispense"]) == 1 and len(files["Media"]) == 1
    ecgs = [o for o in files["Observation"] if o["code"]["coding"][0]["code"] == "11524-6"]
    assert len(ecgs) == 1 and sum("valueSampledData" in c for c in ecgs[0]["component"]) == 2  # two leads
    assert {o["name"] for o in files["Organization"]} == {"CSR Imilchil", "CRT Drâa-Tafilalet"}  # not Talsint
    # Narrowed to Talsint's province, Imilchil's records stay out.
    _manifest, talsint = _exported(admin, settings, tmp_path / "talsint",
                                   province=network["talsint"].commune.province_id, _type="Device,Media,Organization")
    assert ({o["name"] for o in talsint["Organization"]}, talsint["Device"], talsint["Media"]) == ({"CSR Talsint"}, [], [])


def test_export_type_filter_refuses_or_reports_types_not_exported(client, people, patients, settings, tmp_path):
    admin = Fhir(client, token_for(people["admin"]))
    refused = admin.get("$export", headers={"Prefer": "respond-async"}, _type="Patient,AuditEvent")
    assert refused.status_code == 400 and refused.body["issue"][0]["expression"] == ["_type"]
    manifest, files = _exported(admin, settings, tmp_path, headers={"Prefer": "respond-async, handling=lenient"},
                                _type="Patient,AuditEvent,Basic")
    assert [item["type"] for item in manifest["output"]] == ["Patient"] and len(files["Patient"]) == 3
    issue = files["OperationOutcome"][0]["issue"][0]
    assert issue["severity"] == "warning" and "AuditEvent, Basic" in issue["diagnostics"]
