"""Clinical questions, messages and incident descriptions have documented limits: over them is refused,
naming the field, never cut short in silence."""

import pytest
from django.core.exceptions import ValidationError

from caravane.core.text import INCIDENT_MAX, MESSAGE_MAX
from caravane.telemed import actions
from caravane.telemed.models import Communication, ServiceRequest, TechnicalIncident

pytestmark = pytest.mark.django_db
BASE = "/api/telemed"


@pytest.fixture
def gp_client(client, people):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(people.gp)
    return client


def _fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_an_incident_description_up_to_the_limit_is_kept_whole(gp_client, request_act):
    act = request_act()
    description = "The satellite link dropped. " * (INCIDENT_MAX // 28)
    response = gp_client.post(f"{BASE}/service-requests/{act.pk}/incidents",
                              {"category": "connectivity", "description": description},
                              content_type="application/json")
    assert response.status_code == 201
    assert len(description) > 500 and TechnicalIncident.objects.get().description == description.strip()


def test_an_incident_description_over_the_limit_is_refused_not_truncated(gp_client, people, request_act):
    act = request_act()
    response = gp_client.post(f"{BASE}/service-requests/{act.pk}/incidents",
                              {"category": "connectivity", "description": "x" * (INCIDENT_MAX + 1)},
                              content_type="application/json")
    assert response.status_code == 422 and _fields(response) == ["description"]
    with pytest.raises(ValidationError) as refused:  # the page's path, through the action
        actions.do_report_incident(actor=people.gp, act=act, category="connectivity",
                                   description="x" * (INCIDENT_MAX + 1))
    assert list(refused.value.message_dict) == ["description"]
    assert not TechnicalIncident.objects.exists()


def test_a_one_megabyte_question_is_refused(gp_client, people, visit, consent):
    response = gp_client.post(f"{BASE}/service-requests", {"encounter": str(visit.pk), "kind": "teleconsultation",
                                                           "specialty": "cardiology", "question": "?" * 1_000_000},
                              content_type="application/json")
    assert response.status_code == 422 and _fields(response) == ["question"]
    with pytest.raises(ValidationError) as refused:
        actions.do_request_act(actor=people.gp, encounter=visit, kind="teleconsultation", specialty="cardiology",
                               priority="routine", question="?" * (MESSAGE_MAX + 1))
    assert list(refused.value.message_dict) == ["question"]
    assert not ServiceRequest.objects.exists()


def test_a_message_over_the_limit_is_refused(gp_client, request_act):
    act = request_act()
    response = gp_client.post(f"{BASE}/service-requests/{act.pk}/communications", {"text": "m" * (MESSAGE_MAX + 1)})
    assert response.status_code == 422 and _fields(response) == ["text"]
    sent = gp_client.post(f"{BASE}/service-requests/{act.pk}/communications", {"text": "Line one\nLine two"})
    assert sent.status_code == 201 and Communication.objects.get().text == "Line one\nLine two"
