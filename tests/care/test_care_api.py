"""The care API: the same actions, scope and audit as the pages, described in the OpenAPI document."""

import pytest
from django.test import Client

from caravane.audit.models import AuditEvent
from caravane.care.models import Observation


@pytest.fixture
def api(team):
    def as_user(role):
        client = Client(headers={"accept-language": "en"})
        client.force_login(team[role])
        return client

    return as_user


def test_a_visit_through_the_api(api, team, patient_factory):
    patient = patient_factory(site=team["site"])
    assistant, nurse, gp = api("assistant"), api("nurse"), api("gp")
    created = assistant.post("/api/care/encounters", {"patient": str(patient.pk), "site": str(team["site"].pk),
                                                      "priority": "urgent"}, content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert nurse.post(f"/api/care/encounters/{pk}/status", {"to": "with_nurse"},
                      content_type="application/json").json()["status"] == "with_nurse"

    refused = nurse.post(f"/api/care/encounters/{pk}/observations", {"systolic": "400", "diastolic": "80"},
                         content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "systolic"
    assert "Systolic blood pressure" in refused.json()["errors"][0]["message"]
    assert not Observation.objects.exists()

    recorded = nurse.post(f"/api/care/encounters/{pk}/observations", {"temperature": "39.6", "weight": "70",
                                                                      "height": "175"},
                          content_type="application/json")
    assert recorded.status_code == 201
    by_code = {o["code"]: o for o in recorded.json()}
    assert by_code["8310-5"]["interpretation"] == "H" and by_code["8310-5"]["unit"] == "Cel"
    assert by_code["39156-5"]["value"] == pytest.approx(round(70 / 1.75 ** 2, 1))

    nurse.post(f"/api/care/encounters/{pk}/status", {"to": "with_gp"}, content_type="application/json")
    assert gp.put(f"/api/care/encounters/{pk}/note", {"reason": "Fever"},
                  content_type="application/json").status_code == 200
    bad_code = gp.post(f"/api/care/encounters/{pk}/conditions", {"icd10_code": "X00.00"},
                       content_type="application/json")
    assert bad_code.status_code == 400 and bad_code.json()["errors"][0]["field"] == "icd10_code"
    assert gp.post(f"/api/care/encounters/{pk}/conditions", {"icd10_code": "B54"},
                   content_type="application/json").json()["icd10_label"] == "Unspecified malaria"
    prescribed = gp.post(f"/api/care/encounters/{pk}/medication-requests",
                         {"medication": "Artemether-lumefantrine", "dose": "4 tablets", "route": "oral",
                          "frequency": "twice daily", "duration_days": 3}, content_type="application/json")
    assert prescribed.status_code == 201
    closed = gp.post(f"/api/care/encounters/{pk}/close")
    assert closed.json()["status"] == "done" and closed.json()["signed_at"]
    assert len(gp.get(f"/api/care/encounters/{pk}/medication-requests").json()) == 1
    assert gp.get(f"/api/care/encounters?patient={patient.pk}").json()["count"] == 1


def test_api_scope_403_with_audit_and_no_leak(api, team, patient_factory, site_factory, staff_factory):
    patient = patient_factory(site=team["site"])
    created = api("assistant").post("/api/care/encounters", {"patient": str(patient.pk), "site": str(team["site"].pk)},
                                    content_type="application/json")
    pk = created.json()["id"]
    outsider = Client()
    outsider.force_login(staff_factory(role="gp", site=site_factory(name="Other")).user)
    assert outsider.get(f"/api/care/encounters/{pk}").status_code == 403
    assert outsider.get(f"/api/care/encounters/{pk}/observations").status_code == 403
    assert outsider.get("/api/care/encounters").json()["count"] == 0
    assert AuditEvent.objects.filter(object_id=pk, outcome="denied").count() == 2
    assert Client().get("/api/care/encounters").status_code == 401


def test_icd10_search_and_openapi(api):
    results = api("gp").get("/api/care/icd10?q=J06").json()
    assert results[0]["code"] == "J06" and any(r["code"] == "J06.9" for r in results)
    paths = Client().get("/api/openapi.json").json()["paths"]
    for path in ("/api/care/encounters", "/api/care/encounters/{pk}/observations",
                 "/api/care/encounters/{pk}/conditions", "/api/care/encounters/{pk}/medication-requests"):
        assert path in paths
