"""The telemedicine API: a whole act through it, and scope (403 with an audit row) for everyone else."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from caravane.audit.models import AuditEvent

from .conftest import PNG, upload

pytestmark = pytest.mark.django_db

BASE = "/api/telemed"


@pytest.fixture(autouse=True)
def english_client(client):
    """Requests ask for English, so messages are asserted in the source language."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_a_whole_teleconsultation_through_the_api(client, people, network, visit, consent, media):
    client.force_login(people.gp)
    response = client.post(f"{BASE}/service-requests", {
        "encounter": str(visit.pk), "kind": "teleconsultation", "specialty": "cardiology", "priority": "urgent",
        "question": "Chest pain at rest, ECG attached."}, content_type="application/json")
    assert response.status_code == 201, response.content
    act = response.json()
    assert (act["resourceType"], act["status"], act["hub"]) == ("ServiceRequest", "requested", str(network.regional.pk))
    # Nobody is on a roster yet: sent anyway to the regional centre's cardiologist, and the answer says so.
    assert act["route"][-1]["rule"] == "staffed_not_rostered" and act["route"][-1]["explanation"]
    assert act["routed_within_service_level"] is False
    pk = act["id"]
    response = client.post(f"{BASE}/service-requests/{pk}/attachments",
                           {"category": "photo", "files": [SimpleUploadedFile("a.png", PNG, "image/png")]})
    assert response.status_code == 201, response.content
    assert response.json()[0]["size"] == len(PNG)

    client.force_login(people.cardiologist)
    worklist = client.get(f"{BASE}/worklist", {"hub": str(network.regional.pk), "specialty": "cardiology"}).json()
    assert [item["id"] for item in worklist] == [pk]
    task = client.post(f"{BASE}/service-requests/{pk}/task", {"to": "accepted"}, content_type="application/json")
    assert task.status_code == 200 and task.json()["status"] == "accepted"
    start = timezone.now() + datetime.timedelta(minutes=30)
    slot = client.post(f"{BASE}/slots", {"hub": str(network.regional.pk), "start": start.isoformat(),
                                         "end": (start + datetime.timedelta(minutes=20)).isoformat()},
                       content_type="application/json")
    assert slot.status_code == 201, slot.content
    booking = client.post(f"{BASE}/service-requests/{pk}/appointments", {"slot": slot.json()["id"]},
                          content_type="application/json")
    assert booking.status_code == 201 and booking.json()["resourceType"] == "Appointment"
    message = client.post(f"{BASE}/service-requests/{pk}/communications",
                          {"text": "Another photo please", "information_request": "true"})
    assert message.status_code == 201, message.content
    assert message.json()["category"] == "information_request"
    assert client.post(f"{BASE}/service-requests/{pk}/task", {"to": "in_progress"},
                       content_type="application/json").status_code == 200
    draft = client.put(f"{BASE}/service-requests/{pk}/report", {
        "findings": "ST elevation absent.", "icd10_code": "I20.9", "recommendations": "Refer for stress test."},
        content_type="application/json")
    assert draft.status_code == 200 and draft.json()["status"] == "preliminary"
    signed = client.post(f"{BASE}/service-requests/{pk}/report/sign")
    assert signed.status_code == 200 and signed.json()["status"] == "final"

    client.force_login(people.gp)
    assert client.get(f"{BASE}/service-requests/{pk}/appointments").json()[0]["start"]
    report = client.get(f"{BASE}/service-requests/{pk}/report").json()
    assert (report["resourceType"], report["icd10_code"]) == ("DiagnosticReport", "I20.9")
    history = client.get(f"{BASE}/service-requests/{pk}/task").json()
    assert [h["to_status"] for h in history["history"]] == ["requested", "accepted", "scheduled", "in_progress",
                                                           "reported"]
    assert client.post(f"{BASE}/service-requests/{pk}/task", {"to": "closed"},
                       content_type="application/json").json()["status"] == "closed"


def test_bad_input_and_refused_transitions_are_400s(client, people, request_act):
    act = request_act()
    client.force_login(people.cardiologist)
    response = client.post(f"{BASE}/service-requests/{act.pk}/task", {"to": "declined", "reason": ""},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "reason"
    response = client.post(f"{BASE}/service-requests/{act.pk}/task", {"to": "closed"}, content_type="application/json")
    assert response.status_code == 400 and "cannot become" in response.json()["detail"] + str(response.json())


def test_request_without_consent_is_a_400_saying_why(client, people, visit):
    client.force_login(people.gp)
    response = client.post(f"{BASE}/service-requests", {
        "encounter": str(visit.pk), "kind": "teleexpertise", "specialty": "cardiology", "question": "?"},
        content_type="application/json")
    assert response.status_code == 400
    assert "No valid consent" in str(response.json())


@pytest.mark.parametrize("who", ["other_cardiologist", "paediatrician", "other_gp", "dermatologist"])
def test_outsiders_get_403_and_an_audit_row(client, people, request_act, who):
    act = request_act()
    client.force_login(getattr(people, who))
    for path in ("", "/task", "/report", "/communications", "/attachments"):
        response = client.get(f"{BASE}/service-requests/{act.pk}{path}")
        assert response.status_code == 403, (path, response.content)
    denied = AuditEvent.objects.filter(object_id=str(act.pk), outcome="denied", actor=getattr(people, who))
    assert denied.count() == 5
    listed = client.get(f"{BASE}/service-requests").json()
    assert listed["count"] == 0


@pytest.mark.parametrize("who", ["gp", "nurse", "cardiologist", "coordinator", "national_coordinator"])
def test_both_sides_and_the_territorys_coordinator_may_read(client, people, request_act, who):
    act = request_act()
    client.force_login(getattr(people, who))
    response = client.get(f"{BASE}/service-requests/{act.pk}")
    if who == "nurse":  # the nurse's role does not include telemedicine acts
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert AuditEvent.objects.filter(object_id=str(act.pk), outcome="allowed", action="telemed.view_act",
                                     actor=getattr(people, who)).exists()
    assert client.get(f"{BASE}/service-requests").json()["count"] == 1


def test_indicators_endpoint_is_for_coordinators(client, people, request_act):
    request_act()
    client.force_login(people.gp)
    assert client.get(f"{BASE}/indicators").status_code == 403
    client.force_login(people.coordinator)
    rows = client.get(f"{BASE}/indicators").json()
    assert rows[0]["requests"] == 1 and rows[0]["specialty"] == "cardiology"


def test_files_are_downloaded_by_the_acts_readers_only(client, people, request_act, media):
    act = request_act(uploads=[upload("ecg.png", "image/png", PNG, "ecg")])
    attachment = act.attachments.get()
    client.force_login(people.cardiologist)
    response = client.get(f"{BASE}/attachments/{attachment.pk}/content")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    client.force_login(people.other_cardiologist)
    assert client.get(f"{BASE}/attachments/{attachment.pk}/content").status_code == 403
    assert AuditEvent.objects.filter(action="telemed.download", outcome="denied",
                                     object_id=str(attachment.pk)).exists()


def test_incidents_and_reassignment_through_the_api(client, people, network, request_act):
    act = request_act()
    client.force_login(people.gp)
    response = client.post(f"{BASE}/service-requests/{act.pk}/incidents",
                           {"category": "connectivity", "description": "Satellite link down"},
                           content_type="application/json")
    assert response.status_code == 201 and response.json()["category"] == "connectivity"
    response = client.post(f"{BASE}/service-requests/{act.pk}/reassign",
                           {"hub": str(network.central.pk), "reason": "Load"}, content_type="application/json")
    assert response.status_code == 403
    client.force_login(people.coordinator)
    response = client.post(f"{BASE}/service-requests/{act.pk}/reassign",
                           {"hub": str(network.central.pk), "reason": "Load"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["route"][-1]["explanation"].startswith("Reassigned to Central platform")
