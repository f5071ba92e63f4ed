"""What is new to a GP on their requests: unread messages and reports, cleared by opening the act; live."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from caravane.routing import websocket_urlpatterns
from caravane.telemed import actions, selectors
from caravane.telemed.models import ReadMarker

REPORT = {"findings": "Left ventricular hypertrophy.", "icd10_code": "I10",
          "recommendations": "Add amlodipine 5 mg once a day."}


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _row(user, act):
    return next(a for a in selectors.requests_of(user) if a.pk == act.pk)


def _rows_html(client, **query):
    response = client.get(reverse("telemed:request_rows"), query, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_messages_and_reports_are_new_until_the_act_is_opened(request_act, people):
    act = request_act()
    gp = _client(people.gp)
    gp.get(reverse("telemed:act", args=[act.pk]))  # the GP saw the request as sent
    assert (_row(people.gp, act).unread_messages, _row(people.gp, act).new_report) == (0, False)

    actions.do_accept(actor=people.cardiologist, act=act)
    actions.do_send_message(actor=people.cardiologist, act=act, text="Any ECG?")
    actions.do_send_message(actor=people.gp, act=act, text="Attached tomorrow.")  # their own: not news
    actions.do_send_message(actor=people.cardiologist, act=act, text="Thanks.")
    actions.do_save_report(actor=people.cardiologist, act=act, **REPORT)
    assert (_row(people.gp, act).unread_messages, _row(people.gp, act).new_report) == (2, False)  # a draft
    actions.do_sign_report(actor=people.cardiologist, act=act)
    row = _row(people.gp, act)
    assert (row.unread_messages, row.new_report) == (2, True)

    html = _rows_html(gp, unread="1")
    assert "New report" in html and "2 new messages" in html

    assert gp.get(reverse("telemed:act", args=[act.pk])).status_code == 200
    row = _row(people.gp, act)
    assert (row.unread_messages, row.new_report) == (0, False)
    assert ReadMarker.objects.filter(user=people.gp, act=act).count() == 1
    assert "Nothing new on your requests." in _rows_html(gp, unread="1")
    assert str(act.pk) in _rows_html(gp)  # the full list still shows it, unmarked

    actions.do_amend_report(actor=people.cardiologist, report=act.report, reason="Dose", text="10 mg.")
    assert _row(people.gp, act).new_report


@pytest.mark.django_db
def test_opening_an_act_of_another_site_is_refused_and_marks_nothing(request_act, people):
    act = request_act()
    response = _client(people.other_gp).get(reverse("telemed:act", args=[act.pk]))
    assert response.status_code == 403
    assert not ReadMarker.objects.filter(user=people.other_gp).exists()
    assert str(act.pk) not in _rows_html(_client(people.other_gp))


@pytest.mark.django_db(transaction=True)
def test_the_gp_request_list_hears_of_a_signed_report_and_shows_it_new(request_act, people, network):
    act = request_act()
    actions.do_accept(actor=people.cardiologist, act=act)
    actions.do_save_report(actor=people.cardiologist, act=act, **REPORT)
    gp = _client(people.gp)
    gp.get(reverse("telemed:act", args=[act.pk]))
    page = gp.get(reverse("telemed:requests")).content.decode()
    feed = f"/ws/telemed/site/{network.spoke.pk}/"
    assert f'data-feed="{feed}"' in page  # the list follows its site's feed...
    assert "New report" not in _rows_html(gp)

    async def scenario():
        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), feed)
        communicator.scope["user"] = people.gp
        assert (await communicator.connect())[0]
        await sync_to_async(actions.do_sign_report)(actor=people.cardiologist, act=act)
        message = await communicator.receive_json_from(timeout=2)
        await communicator.disconnect()
        return message

    message = async_to_sync(scenario)()
    assert (message["event"], message["payload"]["act"]) == ("telemed.reported", str(act.pk))
    # ...and the rows it then re-reads show the report as new.
    assert "New report" in _rows_html(gp)
