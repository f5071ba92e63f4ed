"""The room's pages: the waiting room, "patient ready", "call now" from the worklist, refusals."""

from __future__ import annotations

import pytest

from .conftest import audit_rows

pytestmark = pytest.mark.django_db


def test_the_site_sees_the_question_the_vital_signs_and_the_waiting_room(client, accepted, people):
    client.force_login(people.gp)
    page = client.get(f"/rooms/{accepted.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Hypertension resistant to two drugs" in html
    assert 'data-code="8480-6"' in html  # the visit's systolic pressure
    assert 'id="patient-ready"' in html and f'/telemed/acts/{accepted.pk}/' in html
    assert f'data-socket="/ws/rooms/{accepted.pk}/"' in html
    assert audit_rows("rooms.view", people.gp) == [("allowed", "")]


def test_the_nurse_joins_without_the_telemedicine_pages(client, accepted, people):
    client.force_login(people.nurse)
    html = client.get(f"/rooms/{accepted.pk}/").content.decode()
    assert 'id="patient-ready"' in html and "conversation-link" not in html


@pytest.mark.parametrize("who", ["other_gp", "paediatrician", "coordinator"])
def test_outsiders_get_a_403_and_a_denied_row(client, accepted, people, who):
    user = getattr(people, who)
    client.force_login(user)
    assert client.get(f"/rooms/{accepted.pk}/").status_code == 403
    assert [outcome for outcome, _ in audit_rows("rooms.view", user)] == ["denied"]


def test_patient_ready_then_call_now_from_the_worklist(client, accepted, people):
    from caravane.telemed.models import ServiceRequest

    client.force_login(people.nurse)
    response = client.post(f"/rooms/{accepted.pk}/ready/")
    assert response.status_code == 302 and response["Location"] == f"/rooms/{accepted.pk}/"
    assert ServiceRequest.objects.get(pk=accepted.pk).patient_ready_at is not None
    assert 'id="patient-ready-at"' in client.get(f"/rooms/{accepted.pk}/").content.decode()

    client.force_login(people.cardiologist)
    rows = client.get("/telemed/worklist/rows/").content.decode()
    assert "patient-ready" in rows and f'action="/rooms/{accepted.pk}/call/"' in rows
    response = client.post(f"/rooms/{accepted.pk}/call/")
    assert response.status_code == 302 and response["Location"] == f"/rooms/{accepted.pk}/"
    assert ServiceRequest.objects.get(pk=accepted.pk).status == "in_progress"
    # Calling again (a second try after a cut) opens the same room; the act stays in progress.
    assert client.post(f"/rooms/{accepted.pk}/call/").status_code == 302


def test_the_site_calling_now_does_not_start_the_act(client, accepted, people):
    from caravane.telemed.models import ServiceRequest

    client.force_login(people.gp)
    assert client.post(f"/rooms/{accepted.pk}/call/").status_code == 302
    assert ServiceRequest.objects.get(pk=accepted.pk).status == "accepted"


def test_no_waiting_room_before_acceptance(client, request_act, people):
    act = request_act()
    client.force_login(people.gp)
    assert client.post(f"/rooms/{act.pk}/ready/").status_code == 403
    assert audit_rows("rooms.patient_ready", people.gp) == [("denied", "act is requested")]


def test_the_act_page_links_to_the_room_once_accepted(client, request_act, people):
    from caravane.telemed.actions import do_accept

    act = request_act()
    client.force_login(people.gp)
    assert 'id="call-room"' not in client.get(f"/telemed/acts/{act.pk}/").content.decode()
    do_accept(actor=people.cardiologist, act=act)
    assert f'href="/rooms/{act.pk}/" id="call-room"' in client.get(f"/telemed/acts/{act.pk}/").content.decode()
