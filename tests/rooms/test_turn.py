"""TURN credentials by coturn's REST scheme, checked against a real turnserver on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint

from caravane.config import Config
from caravane.rooms.selectors import ice_servers, turn_credentials

USER = "0190a5b2-0000-7000-8000-000000000001"


def test_credentials_follow_coturns_rest_scheme():
    # The expected password was computed apart: printf USERNAME | openssl dgst -sha1 -hmac SECRET -binary | base64
    username, password = turn_credentials(USER, secret="north-of-the-atlas", ttl=3600, now=1767222000)
    assert username == f"1767225600:{USER}"
    assert password == "zSfdc+W4dBeRfzFcHw1w30oWYfQ="


def test_ice_servers_come_from_the_settings(settings):
    config = Config.from_environ({"CARAVANE_STUN_URLS": "stun:a.example:3478, stun:b.example:3478",
                                  "CARAVANE_TURN_URLS": "turn:a.example:3478?transport=udp",
                                  "CARAVANE_TURN_SECRET": "s3cret-shared-with-coturn", "CARAVANE_TURN_TTL": "600"})
    settings.CARAVANE = config

    class User:
        pk = USER

    before = int(time.time())
    stun_servers, turn = ice_servers(User())
    assert stun_servers == {"urls": ["stun:a.example:3478", "stun:b.example:3478"]}
    expiry, user = turn["username"].split(":", 1)
    assert user == USER and before + 600 <= int(expiry) <= int(time.time()) + 600
    assert "s3cret" not in repr(config)
    settings.CARAVANE = dataclasses.replace(config, turn_urls=[], stun_urls=[])
    assert ice_servers(User()) == []


def test_turn_without_its_secret_is_refused_at_start():
    config = Config.from_environ({"CARAVANE_TURN_URLS": "turn:a.example:3478"})
    assert any("CARAVANE_TURN_SECRET" in problem for problem in config.problems)


class _Sink(asyncio.DatagramProtocol):
    pass


async def _allocate(server, username, password):
    transport, _ = await create_turn_endpoint(_Sink, server_addr=(server.host, server.port), username=username,
                                              password=password, lifetime=60)
    try:
        return transport.get_extra_info("sockname")
    finally:
        transport.close()


def test_real_turnserver_allocates_with_derived_credentials_only(turnserver):
    username, password = turn_credentials(USER, secret=turnserver.secret, ttl=300)
    relayed = asyncio.run(_allocate(turnserver, username, password))
    assert relayed[0] == "127.0.0.1" and turnserver.relay_ports[0] <= relayed[1] <= turnserver.relay_ports[1], turnserver.log()

    wrong_user, wrong_password = turn_credentials(USER, secret="not-the-shared-secret", ttl=300)
    with pytest.raises(stun.TransactionFailed):
        asyncio.run(_allocate(turnserver, wrong_user, wrong_password))
    expired_user, expired_password = turn_credentials(USER, secret=turnserver.secret, ttl=60,
                                                      now=time.time() - 3600)
    with pytest.raises(stun.TransactionFailed):
        asyncio.run(_allocate(turnserver, expired_user, expired_password))
