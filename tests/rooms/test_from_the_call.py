"""What a call adds to its act: snapshots (with the patient's consent to photos), messages, a recording (only where
the deployment records, with its own consent), and a report whose participants, times and incidents come from the
call; the observer flag on the act's page; the rooms API."""

from __future__ import annotations

import dataclasses
import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from caravane.rooms import actions
from caravane.telemed.models import Attachment, Communication, DiagnosticReport

from .conftest import audit_rows

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 200


@pytest.fixture(autouse=True)
def in_english(client, english):
    """The pages answer in English here (the deployment's language is French), as the messages are asserted."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def consent_to(patient, people, network):
    """Record the patient's consent to the call's act and to ``scopes``."""
    from caravane.patients.actions import do_record_consent

    def record(*scopes):
        return do_record_consent(actor=people.gp, patient=patient, acts=["teleconsultation", *scopes],
                                 method="signed_paper", site=network.spoke,
                                 period_start=datetime.date.today() - datetime.timedelta(days=1))

    return record


def _snapshot(client, user, act):
    client.force_login(user)
    return client.post(f"/rooms/{act.pk}/snapshot/",
                       {"photo": SimpleUploadedFile("still.jpg", JPEG, content_type="image/jpeg")})


def test_a_snapshot_needs_the_patients_consent_to_photos(client, accepted, people, consent_to):
    response = _snapshot(client, people.cardiologist, accepted)
    assert response.status_code == 400
    assert "consented to photos" in " ".join(response.json()["errors"]["consent"])
    assert not Attachment.objects.filter(act=accepted).exists()

    consent_to("photos")
    response = _snapshot(client, people.cardiologist, accepted)
    assert response.status_code == 200, response.content
    photo = Attachment.objects.get(act=accepted)
    assert (photo.category, photo.content_type, str(photo.pk)) == ("photo", "image/jpeg", response.json()["attachment"])
    assert audit_rows("telemed.attach", people.cardiologist) == [("allowed", "")]
    # The nurse, who reads no act page, takes one too; the site's GP sees both in the room's conversation.
    assert _snapshot(client, people.nurse, accepted).status_code == 200
    client.force_login(people.gp)
    html = client.get(f"/rooms/{accepted.pk}/conversation/").content.decode()
    assert html.count('data-category="photo"') == 2 and "/telemed/attachments/" in html


@pytest.mark.parametrize("who", ["other_gp", "paediatrician", "coordinator"])
def test_outsiders_cannot_add_to_the_act_through_the_room(client, accepted, people, consent_to, who):
    consent_to("photos")
    user = getattr(people, who)
    assert _snapshot(client, user, accepted).status_code == 403
    assert client.post(f"/rooms/{accepted.pk}/message/", {"text": "hello"}).status_code == 403
    assert not Attachment.objects.filter(act=accepted).exists() and not Communication.objects.exists()
    assert [outcome for outcome, _ in audit_rows("rooms.snapshot", user)] == ["denied"]


def test_an_observer_watches_but_adds_nothing(client, accepted, people, consent_to):
    from caravane.telemed.actions import do_set_observable

    consent_to("photos")
    do_set_observable(actor=people.gp, act=accepted, observable=True)
    client.force_login(people.coordinator)
    page = client.get(f"/rooms/{accepted.pk}/").content.decode()
    assert 'data-role="observer"' in page and 'id="snapshot"' not in page and 'id="chat-form"' not in page
    assert _snapshot(client, people.coordinator, accepted).status_code == 403
    assert audit_rows("rooms.snapshot", people.coordinator) == [("denied", "observer")]


def test_messages_from_the_call_join_the_acts_conversation(client, accepted, people):
    client.force_login(people.nurse)
    response = client.post(f"/rooms/{accepted.pk}/message/", {"text": "La patiente est installée."})
    assert response.status_code == 200
    message = Communication.objects.get(act=accepted)
    assert message.sender.user_id == people.nurse.pk and message.text == "La patiente est installée."
    assert client.post(f"/rooms/{accepted.pk}/message/", {"text": "  "}).status_code == 400
    client.force_login(people.cardiologist)
    assert "La patiente est installée." in client.get(f"/rooms/{accepted.pk}/conversation/").content.decode()


def test_recording_is_off_by_default_and_needs_its_own_consent(client, accepted, people, consent_to, settings):
    def record():
        client.force_login(people.cardiologist)
        return client.post(f"/rooms/{accepted.pk}/recording/",
                           {"recording": SimpleUploadedFile("call.webm", WEBM, content_type="video/webm")})

    consent_to("photos", "recording")
    assert settings.CARAVANE.rooms_recording is False
    assert 'id="record"' not in client.get(f"/rooms/{accepted.pk}/").content.decode()
    response = record()
    assert response.status_code == 400 and "does not record" in response.content.decode()

    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, rooms_recording=True)
    assert 'id="record"' in client.get(f"/rooms/{accepted.pk}/").content.decode()
    video = Attachment.objects.get(pk=record().json()["attachment"])
    assert (video.category, video.content_type) == ("recording", "video/webm")


def test_recording_without_its_consent_is_refused(client, accepted, people, consent_to, settings):
    from caravane.telemed.actions import do_attach

    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, rooms_recording=True)
    consent_to("photos")
    client.force_login(people.cardiologist)
    page = client.get(f"/rooms/{accepted.pk}/").content.decode()
    assert 'id="record"' not in page and 'id="no-recording"' in page
    response = client.post(f"/rooms/{accepted.pk}/recording/",
                           {"recording": SimpleUploadedFile("call.webm", WEBM, content_type="video/webm")})
    assert response.status_code == 400 and "recording" in response.content.decode()
    # Nor through the act's own attachments: a recording comes from the room alone.
    from tests.telemed.conftest import upload

    with pytest.raises(Exception, match="call room only"):
        do_attach(actor=people.cardiologist, act=accepted, uploads=[upload("call.webm", "video/webm", WEBM, "recording")])
    assert not Attachment.objects.filter(act=accepted).exists()


def test_the_report_is_filled_from_the_call_and_signed_beside_the_video(client, accepted, people):
    from caravane.telemed.actions import do_report_incident

    gp = actions.do_join(actor=people.gp, act=accepted)
    nurse = actions.do_join(actor=people.nurse, act=accepted)
    specialist = actions.do_join(actor=people.cardiologist, act=accepted)
    do_report_incident(actor=people.nurse, act=accepted, category="connectivity", description="Call connection lost",
                       in_call=True)
    for user, attendance in ((people.nurse, nurse), (people.gp, gp), (people.cardiologist, specialist)):
        actions.do_leave(actor=user, attendance=attendance)

    client.force_login(people.cardiologist)
    page = client.get(f"/rooms/{accepted.pk}/").content.decode()
    assert 'id="report-form"' in page and 'id="report-call"' in page and "Call connection lost" in page
    fields = {"findings": "BP 172/101, no sign of heart failure.", "diagnosis_text": "Resistant hypertension",
              "recommendations": "Add a thiazide diuretic."}
    response = client.post(f"/rooms/{accepted.pk}/report/", {**fields, "save": "1"})
    assert response.json() == {"ok": True, "message": "Report saved.", "signed": False, "url": ""}
    response = client.post(f"/rooms/{accepted.pk}/report/", {**fields, "sign": "1"})
    assert response.status_code == 200 and response.json()["signed"]

    report = DiagnosticReport.objects.get(act=accepted)
    call = report.call
    assert [(p["name"], p["role"]) for p in call["participants"]] == [
        (people.gp.staff.full_name, "site"), (people.nurse.staff.full_name, "site"),
        (people.cardiologist.staff.full_name, "specialist")]
    assert call["participants"][0]["site"] == "CSR Spoke" and call["participants"][2]["site"] == "Regional centre"
    assert call["start"] == gp.joined_at.isoformat() and call["seconds"] >= 0 and not call["ongoing"]
    assert [i["description"] for i in report.incidents] == ["Call connection lost"]
    # The signed report shows the call to whoever reads the act.
    client.force_login(people.gp)
    html = client.get(f"/telemed/acts/{accepted.pk}/").content.decode()
    assert 'id="report-call"' in html and people.nurse.staff.full_name in html
    # Only the specialist writes the report.
    assert client.post(f"/rooms/{accepted.pk}/report/", fields).status_code == 403


def test_the_room_refuses_bad_input_without_a_500(client, accepted, people, consent_to):
    consent_to("photos")
    client.force_login(people.cardiologist)
    assert client.post(f"/rooms/{accepted.pk}/snapshot/").status_code == 400
    response = client.post(f"/rooms/{accepted.pk}/snapshot/",
                           {"photo": SimpleUploadedFile("still.jpg", b"<svg onload=x>", content_type="image/jpeg")})
    assert response.status_code == 400 and response.json()["errors"]
    assert client.post(f"/rooms/{accepted.pk}/report/", {"icd10_code": "ZZZ.99", "sign": "1"}).status_code == 400
    assert client.get("/rooms/00000000-0000-7000-8000-000000000000/conversation/").status_code == 404
    assert not Attachment.objects.filter(act=accepted).exists()


def test_the_observer_flag_on_the_acts_page(client, accepted, people):
    client.force_login(people.gp)
    assert 'id="observe-on"' in client.get(f"/telemed/acts/{accepted.pk}/").content.decode()
    assert client.post(f"/telemed/acts/{accepted.pk}/observe/", {"observable": "1"}).status_code == 302
    accepted.refresh_from_db()
    assert accepted.observable
    client.force_login(people.coordinator)
    assert client.get(f"/rooms/{accepted.pk}/").status_code == 200


def test_the_rooms_api_tells_participants_the_state_of_the_call(client, accepted, people, settings):
    secret = "turn-secret-that-stays-on-the-server"
    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, turn_urls=["turn:127.0.0.1:3478"], turn_secret=secret)
    attendance = actions.do_join(actor=people.gp, act=accepted)
    client.force_login(people.cardiologist)
    response = client.get(f"/api/rooms/acts/{accepted.pk}")
    assert response.status_code == 200, response.content
    state = response.json()
    assert [(p["name"], p["role"]) for p in state["present"]] == [(people.gp.staff.full_name, "site")]
    assert state["call"]["ongoing"] and state["status"] == "accepted" and state["incidents"] == []
    assert secret not in response.content.decode() and attendance.peer not in response.content.decode()
    assert "credential" not in json.dumps(state)
    assert audit_rows("rooms.state", people.cardiologist) == [("allowed", "")]
    for who in ("other_gp", "paediatrician", "coordinator"):
        user = getattr(people, who)
        client.force_login(user)
        assert client.get(f"/api/rooms/acts/{accepted.pk}").status_code == 403
        assert [outcome for outcome, _ in audit_rows("rooms.state", user)] == ["denied"]


def test_the_requesting_gp_allows_an_observer_on_the_request_form(client, visit, consent, people):
    from caravane.telemed.models import ServiceRequest

    client.force_login(people.gp)
    form = client.get(f"/telemed/visits/{visit.pk}/request/").content.decode()
    assert 'name="observable"' in form
    response = client.post(f"/telemed/visits/{visit.pk}/request/", {
        "kind": "teleconsultation", "specialty": "cardiology", "priority": "routine",
        "question": "Hypertension resistant to two drugs: what next?", "observable": "on", "send_anyway": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ServiceRequest.objects.get().observable


def test_the_rooms_report_takes_medication_lines_which_become_the_visits_prescriptions(client, accepted, people):
    from caravane.care.models import MedicationRequest

    client.force_login(people.cardiologist)
    page = client.get(f"/rooms/{accepted.pk}/").content.decode()
    assert 'name="line_medication"' in page and "telemed/medication_lines.js" in page
    fields = {"findings": "BP 172/101.", "diagnosis_text": "Resistant hypertension",
              "recommendations": "Add a thiazide diuretic.",
              "line_medication": ["Hydrochlorothiazide 25 mg", "Amlodipine 5 mg"], "line_dose_value": ["1", "1"],
              "line_dose_unit": ["tablet", "tablet"], "line_route": ["oral", "oral"],
              "line_timing": ["morning", "1/d"], "line_duration_days": ["30", "0"], "line_instructions": ["", ""]}
    refused = client.post(f"/rooms/{accepted.pk}/report/", {**fields, "sign": "1"})
    assert refused.status_code == 400
    assert any(m.startswith("Line 2: Duration") for m in refused.json()["errors"]["medication_lines"])
    assert not DiagnosticReport.objects.filter(act=accepted).exists()
    response = client.post(f"/rooms/{accepted.pk}/report/", {**fields, "line_duration_days": ["30", "30"],
                                                             "save": "1"})
    assert response.status_code == 200
    page = client.get(f"/rooms/{accepted.pk}/").content.decode()
    assert 'value="Hydrochlorothiazide 25 mg"' in page  # the draft's lines come back in the form
    response = client.post(f"/rooms/{accepted.pk}/report/", {**fields, "line_duration_days": ["30", "30"],
                                                             "sign": "1"})
    assert response.status_code == 200 and response.json()["signed"]
    assert sorted(MedicationRequest.objects.filter(encounter=accepted.encounter).values_list("medication", flat=True)
                  ) == ["Amlodipine 5 mg", "Hydrochlorothiazide 25 mg"]
