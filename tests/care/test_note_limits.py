"""A consultation note has a documented length limit per section: over it is refused, naming the section."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from caravane.care import actions
from caravane.care.models import Encounter
from caravane.core.text import NOTE_MAX

pytestmark = pytest.mark.django_db


@pytest.fixture
def gp_client(team):
    client = Client(headers={"accept-language": "en"})
    client.force_login(team["gp"])
    return client


def test_a_one_megabyte_note_is_refused_by_the_api_naming_the_section(gp_client, visit_at_gp):
    response = gp_client.put(f"/api/care/encounters/{visit_at_gp.pk}/note",
                             {"reason": "Cough", "history": "x" * 1_000_000}, content_type="application/json")
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["history"]
    assert Encounter.objects.get(pk=visit_at_gp.pk).reason == ""


def test_a_note_at_the_limit_is_kept_whole(gp_client, visit_at_gp):
    response = gp_client.put(f"/api/care/encounters/{visit_at_gp.pk}/note", {"examination": "é" * NOTE_MAX},
                             content_type="application/json")
    assert response.status_code == 200
    assert len(Encounter.objects.get(pk=visit_at_gp.pk).examination) == NOTE_MAX


def test_the_page_path_refuses_it_too(team, visit_at_gp):
    with pytest.raises(ValidationError) as refused:
        actions.do_save_note(actor=team["gp"], encounter=visit_at_gp, plan="x" * (NOTE_MAX + 1))
    assert list(refused.value.message_dict) == ["plan"]
    assert Encounter.objects.get(pk=visit_at_gp.pk).plan == ""


def test_a_nul_character_in_a_note_is_refused_by_the_action_too(team, visit_at_gp):
    with pytest.raises(ValidationError) as refused:
        actions.do_save_note(actor=team["gp"], encounter=visit_at_gp, reason="Fever\x00")
    assert list(refused.value.message_dict) == ["reason"]


def test_prescription_lines_over_their_column_are_a_400_not_a_database_error(team, visit_at_gp, gp_client):
    response = gp_client.post(f"/api/care/encounters/{visit_at_gp.pk}/medication-requests",
                              {"medication": "Paracetamol", "dose": "1 g" * 30, "route": "oral",
                               "frequency": "3/day", "duration_days": 3}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "dose"
    with pytest.raises(ValidationError) as refused:
        actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, medication="Paracetamol", dose="1 g" * 30,
                             route="oral", frequency="3/day", duration_days=3)
    assert list(refused.value.message_dict) == ["dose"]
