"""Open WebSocket connections are counted for /metrics while they last."""

import datetime

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from prometheus_client.parser import text_string_to_metric_families

from caravane.routing import websocket_urlpatterns

application = URLRouter(websocket_urlpatterns)


def _open(client) -> float:
    text = client.get("/metrics").content.decode()
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "caravane_websocket_connections" and sample.labels["consumer"] == "QueueConsumer")


@pytest.mark.django_db(transaction=True)
def test_open_websockets_are_counted(team, client):
    counted = sync_to_async(_open)
    path = f"/ws/care/queue/{team['site'].pk}/{datetime.date.today()}/"

    async def scenario():
        before = await counted(client)
        communicator = WebsocketCommunicator(application, path)
        communicator.scope["user"] = team["nurse"]
        connected, _ = await communicator.connect()
        assert connected
        assert await counted(client) == before + 1
        await communicator.disconnect()
        assert await counted(client) == before

    async_to_sync(scenario)()
