"""Live events over WebSocket: new requests reach the hub's specialists, answers reach the requesting site."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from caravane.routing import websocket_urlpatterns
from caravane.telemed import actions

application = URLRouter(websocket_urlpatterns)


def _communicator(user, path):
    communicator = WebsocketCommunicator(application, path)
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
def test_request_reaches_the_hub_and_the_answer_reaches_the_site(people, network, request_act):
    async def scenario():
        hub = _communicator(people.cardiologist, f"/ws/telemed/hub/{network.regional.pk}/cardiology/")
        site = _communicator(people.gp, f"/ws/telemed/site/{network.spoke.pk}/")
        other_hub = _communicator(people.other_cardiologist, f"/ws/telemed/hub/{network.other_regional.pk}/cardiology/")
        for communicator in (hub, site, other_hub):
            assert (await communicator.connect())[0]
        act = await sync_to_async(request_act)(priority="urgent")
        for communicator in (hub, site):
            message = await communicator.receive_json_from(timeout=2)
            assert message["event"] == "telemed.requested"
            assert message["payload"]["act"] == str(act.pk) and message["payload"]["priority"] == "urgent"
        await sync_to_async(actions.do_accept)(actor=people.cardiologist, act=act)
        message = await site.receive_json_from(timeout=2)
        assert (message["event"], message["payload"]["status"]) == ("telemed.accepted", "accepted")
        assert await other_hub.receive_nothing(timeout=0.3)
        for communicator in (hub, site, other_hub):
            await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_escalation_tells_the_hub_it_leaves_and_the_one_it_reaches(people, network, request_act):
    act = request_act(kind="teleexpertise")

    async def scenario():
        regional = _communicator(people.cardiologist, f"/ws/telemed/hub/{network.regional.pk}/cardiology/")
        national = _communicator(people.national_cardiologist, f"/ws/telemed/hub/{network.national.pk}/cardiology/")
        for communicator in (regional, national):
            assert (await communicator.connect())[0]
        await sync_to_async(actions.do_escalate)(actor=people.cardiologist, act=act, reason="Rare")
        for communicator in (regional, national):
            message = await communicator.receive_json_from(timeout=2)
            assert (message["event"], message["payload"]["hub"]) == ("telemed.escalated", str(network.national.pk))
            await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("who", "path"), [
    ("paediatrician", "hub/{regional}/cardiology"),  # another specialty at the hub
    ("other_cardiologist", "hub/{regional}/cardiology"),  # the specialty at another hub
    ("gp", "hub/{regional}/cardiology"),  # a site's GP does not watch a hub
    ("other_gp", "site/{spoke}"),  # another site's GP
    ("cardiologist", "site/{spoke}"),  # specialists follow hubs, not sites
    (None, "site/{spoke}"),
])
def test_outsiders_cannot_join(people, network, who, path):
    from django.contrib.auth.models import AnonymousUser

    user = getattr(people, who) if who else AnonymousUser()
    url = "/ws/telemed/" + path.format(regional=network.regional.pk, spoke=network.spoke.pk) + "/"

    async def scenario():
        communicator = _communicator(user, url)
        connected, code = await communicator.connect()
        assert not connected and code == 4403

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_territorys_coordinator_follows_hub_and_site(people, network):
    async def scenario():
        for path in (f"hub/{network.regional.pk}/cardiology", f"site/{network.spoke.pk}"):
            communicator = _communicator(people.coordinator, f"/ws/telemed/{path}/")
            assert (await communicator.connect())[0]
            await communicator.disconnect()

    async_to_sync(scenario)()
