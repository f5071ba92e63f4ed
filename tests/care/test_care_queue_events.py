"""The queue board's WebSocket: members of a site/day group hear every committed change of a visit."""

import datetime

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from caravane.care import actions
from caravane.routing import websocket_urlpatterns

application = URLRouter(websocket_urlpatterns)


def _communicator(user, site, day):
    communicator = WebsocketCommunicator(application, f"/ws/care/queue/{site.pk}/{day.isoformat()}/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
def test_board_members_receive_check_in_and_progress(team, patient_factory):
    patient = patient_factory(site=team["site"])
    today = datetime.date.today()

    async def scenario():
        watchers = [_communicator(team[role], team["site"], today) for role in ("nurse", "gp")]
        for watcher in watchers:
            connected, _ = await watcher.connect()
            assert connected
        encounter = await sync_to_async(actions.do_check_in)(actor=team["assistant"], patient=patient,
                                                             site=team["site"], priority="emergency", day=today)
        for watcher in watchers:
            message = await watcher.receive_json_from(timeout=2)
            assert message["event"] == "visit.checked_in"
            assert message["payload"] == {"encounter": str(encounter.pk), "status": "checked_in",
                                          "priority": "emergency"}
        await sync_to_async(actions.do_advance)(actor=team["nurse"], encounter=encounter, to="with_nurse")
        for watcher in watchers:
            message = await watcher.receive_json_from(timeout=2)
            assert (message["event"], message["payload"]["status"]) == ("visit.updated", "with_nurse")
            await watcher.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_other_days_and_refused_changes_send_nothing(team, patient_factory):
    patient = patient_factory(site=team["site"])
    today = datetime.date.today()

    async def scenario():
        yesterday = _communicator(team["gp"], team["site"], today - datetime.timedelta(days=1))
        assert (await yesterday.connect())[0]
        encounter = await sync_to_async(actions.do_check_in)(actor=team["assistant"], patient=patient,
                                                             site=team["site"], day=today)
        assert await yesterday.receive_nothing(timeout=0.3)
        today_board = _communicator(team["gp"], team["site"], today)
        assert (await today_board.connect())[0]
        with pytest.raises(Exception):
            await sync_to_async(actions.do_advance)(actor=team["gp"], encounter=encounter, to="done")
        assert await today_board.receive_nothing(timeout=0.3)
        await yesterday.disconnect()
        await today_board.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_outsiders_cannot_join_a_sites_board(team, site_factory, staff_factory):
    outsider = staff_factory(role="gp", site=site_factory(name="Other centre")).user
    today = datetime.date.today()

    async def scenario():
        for user in (outsider, None):
            communicator = _communicator(user, team["site"], today)
            if user is None:
                from django.contrib.auth.models import AnonymousUser

                communicator.scope["user"] = AnonymousUser()
            connected, _ = await communicator.connect()
            assert not connected

    async_to_sync(scenario)()
