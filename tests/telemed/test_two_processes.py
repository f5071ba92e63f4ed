"""Two server processes sharing PostgreSQL and Redis: a request created through one process's API reaches a
WebSocket client connected to the other. Runs only when DATABASE_URL and REDIS_URL are set."""

import asyncio
import json
import urllib.request

import pytest
from django.conf import settings

from . import servers

pytestmark = pytest.mark.skipif(
    not (settings.CARAVANE.database_url and settings.CARAVANE.redis_url),
    reason="needs PostgreSQL and Redis (DATABASE_URL and REDIS_URL)")


@pytest.fixture
def two_servers(transactional_db, tmp_path):
    from django.db import connection

    started = servers.start(2, env={"DATABASE_URL": servers.database_url(connection.settings_dict),
                                    "REDIS_URL": settings.CARAVANE.redis_url,
                                    "CARAVANE_DATA_DIR": str(tmp_path)}, log_dir=tmp_path)
    yield started
    servers.stop(started)


def _session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_a_request_made_on_one_server_reaches_a_websocket_on_the_other(two_servers, people, network, visit,
                                                                      consent):
    import websockets

    from caravane.accounts.actions import do_create_api_token

    first, second = two_servers
    _token, raw = do_create_api_token(user=people.gp, name="two-process test")
    cookie = _session_cookie(people.cardiologist)
    body = json.dumps({"encounter": str(visit.pk), "kind": "teleconsultation", "specialty": "cardiology",
                       "priority": "urgent", "question": "Syncope during effort"}).encode()

    async def scenario():
        url = f"{second.ws_base}/ws/telemed/hub/{network.regional.pk}/cardiology/"
        async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": second.base_url}) as ws:
            request = urllib.request.Request(f"{first.base_url}/api/telemed/service-requests", data=body,
                                             method="POST", headers={"Authorization": f"Bearer {raw}",
                                                                     "Content-Type": "application/json"})
            response = await asyncio.to_thread(urllib.request.urlopen, request, timeout=10)
            created = json.loads(response.read())
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            return created, message

    created, message = asyncio.run(scenario())
    assert created["status"] == "requested"
    assert message["event"] == "telemed.requested"
    assert message["payload"]["act"] == created["id"]
