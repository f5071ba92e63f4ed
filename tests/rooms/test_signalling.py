"""The room's signalling over WebSocket: presence, relay between two peers, refusals and hostile frames."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from caravane.rooms.consumers import MAX_BAD_FRAMES, SignalError, parse_signal
from caravane.routing import websocket_urlpatterns

from .conftest import audit_rows

application = URLRouter(websocket_urlpatterns)
SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def _socket(user, act):
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{act.pk}/")
    communicator.scope["user"] = user
    return communicator


async def _join(user, act):
    communicator = _socket(user, act)
    connected, code = await communicator.connect()
    assert connected, code
    welcome = await communicator.receive_json_from(timeout=2)
    assert welcome["type"] == "welcome"
    return communicator, welcome["peer"]


@pytest.mark.django_db(transaction=True)
def test_two_peers_find_each_other_and_relay_offer_answer_and_candidates(accepted, people):
    async def scenario():
        site, site_peer = await _join(people.gp, accepted)
        specialist, specialist_peer = await _join(people.cardiologist, accepted)
        # The site learns of the newcomer (who will offer); the newcomer learns of the site (to offer to).
        joined = await site.receive_json_from(timeout=2)
        assert joined == {"type": "peer", "peer": specialist_peer, "name": people.cardiologist.staff.full_name,
                          "role": "specialist", "offer": False}
        present = await specialist.receive_json_from(timeout=2)
        assert (present["peer"], present["role"], present["offer"]) == (site_peer, "site", True)

        await specialist.send_json_to({"type": "offer", "to": site_peer, "sdp": SDP})
        assert await site.receive_json_from(timeout=2) == {"type": "offer", "sdp": SDP, "from": specialist_peer}
        await site.send_json_to({"type": "answer", "to": specialist_peer, "sdp": SDP})
        assert await specialist.receive_json_from(timeout=2) == {"type": "answer", "sdp": SDP, "from": site_peer}
        candidate = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0",
                     "sdpMLineIndex": 0}
        await site.send_json_to({"type": "ice", "to": specialist_peer, "candidate": candidate, "extra": "dropped"})
        assert await specialist.receive_json_from(timeout=2) == {"type": "ice", "candidate": candidate,
                                                                 "from": site_peer}
        await site.send_json_to({"type": "ice", "to": specialist_peer, "candidate": None})
        assert (await specialist.receive_json_from(timeout=2))["candidate"] is None
        # Nothing echoes back to its sender.
        assert await site.receive_nothing(timeout=0.2)

        await specialist.send_json_to({"type": "hangup"})
        assert await site.receive_json_from(timeout=2) == {"type": "hangup", "peer": specialist_peer}
        assert (await specialist.receive_output(timeout=2))["type"] == "websocket.close"
        await specialist.disconnect()
        await site.disconnect()

    async_to_sync(scenario)()
    assert audit_rows("rooms.join") == [("allowed", ""), ("allowed", "")]
    assert sorted(audit_rows("rooms.leave")) == [("allowed", "connection closed"), ("allowed", "hang-up")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["other_gp", "paediatrician", "other_cardiologist", "coordinator", None])
def test_a_foreign_socket_is_refused_and_audited(accepted, people, who):
    user = getattr(people, who) if who else AnonymousUser()

    async def scenario():
        connected, code = await _socket(user, accepted).connect()
        assert not connected and code == 4403

    async_to_sync(scenario)()
    if who:
        assert [outcome for outcome, _ in audit_rows("rooms.join", user)] == ["denied"]
    else:
        assert audit_rows("ws.unauthenticated") == [("denied", "no session")]


@pytest.mark.django_db(transaction=True)
def test_an_unknown_act_is_not_found(people, network):
    import uuid

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/rooms/{uuid.uuid4()}/")
        communicator.scope["user"] = people.gp
        connected, code = await communicator.connect()
        assert not connected and code == 4404

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_hostile_frames_get_an_error_and_disturb_nobody(accepted, people):
    async def scenario():
        site, site_peer = await _join(people.gp, accepted)
        specialist, specialist_peer = await _join(people.cardiologist, accepted)
        await site.receive_json_from(timeout=2)
        await specialist.receive_json_from(timeout=2)
        bad = [
            ("not json", "not_json"),
            ("[1, 2]", "not_an_object"),
            (json.dumps({"type": "dance"}), "unknown_type"),
            (json.dumps({"type": "offer", "to": "f" * 16, "sdp": SDP}), "unknown_peer"),
            (json.dumps({"type": "offer", "to": site_peer, "sdp": "<script>"}), "bad_sdp"),
            (json.dumps({"type": "offer", "to": site_peer, "sdp": 12}), "bad_sdp"),
            (json.dumps({"type": "ice", "to": site_peer, "candidate": "x"}), "bad_candidate"),
            (json.dumps({"type": "ice", "to": site_peer, "candidate": {"candidate": "c", "sdpMLineIndex": True}}),
             "bad_candidate"),
            (json.dumps({"type": "answer", "to": site_peer, "sdp": "v=0" + "x" * 40_000}), "too_large"),
            (json.dumps({"type": "join", "to": site_peer, "name": "Impostor", "role": "specialist"}), "unknown_type"),
        ]
        for frame, code in bad:
            await specialist.send_to(text_data=frame)
            assert await specialist.receive_json_from(timeout=2) == {"type": "error", "code": code}
        await specialist.send_to(bytes_data=b"\x00\x01")
        assert (await specialist.receive_json_from(timeout=2))["code"] == "binary_frame"
        # The other participant saw none of it, and the hostile socket still relays a valid signal.
        assert await site.receive_nothing(timeout=0.2)
        await specialist.send_json_to({"type": "offer", "to": site_peer, "sdp": SDP})
        assert (await site.receive_json_from(timeout=2))["from"] == specialist_peer
        # A socket that keeps sending garbage is closed, and only that one.
        for _ in range(MAX_BAD_FRAMES - len(bad) - 1):
            await specialist.send_to(text_data="{")
            await specialist.receive_json_from(timeout=2)
        assert (await specialist.receive_output(timeout=2))["type"] == "websocket.close"
        await specialist.disconnect()  # the server's side of the closing handshake
        assert await site.receive_json_from(timeout=2) == {"type": "leave", "peer": specialist_peer}
        await site.send_json_to({"type": "offer", "to": specialist_peer, "sdp": SDP})
        assert (await site.receive_json_from(timeout=2))["code"] == "unknown_peer"
        await site.disconnect()

    async_to_sync(scenario)()
    assert ("allowed", "too many invalid frames") in audit_rows("rooms.leave", people.cardiologist)


def test_parse_signal_keeps_only_known_fields():
    assert parse_signal('{"type": "hangup", "to": "x", "sdp": "v=0"}') == {"type": "hangup"}
    with pytest.raises(SignalError):
        parse_signal('{"type": "offer", "sdp": "v=0"}')  # no target


@pytest.mark.django_db(transaction=True)
def test_the_turn_secret_never_reaches_the_socket_or_the_page(accepted, people, settings, client):
    import dataclasses

    secret = "turn-shared-secret-never-shown-4242"
    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, stun_urls=["stun:127.0.0.1:3478"],
                                            turn_urls=["turn:127.0.0.1:3478?transport=udp"], turn_secret=secret)

    async def scenario():
        communicator = _socket(people.gp, accepted)
        assert (await communicator.connect())[0]
        frame = await communicator.receive_output(timeout=2)
        await communicator.disconnect()
        return frame["text"]

    welcome = async_to_sync(scenario)()
    assert secret not in welcome
    servers = json.loads(welcome)["iceServers"]
    assert servers[0] == {"urls": ["stun:127.0.0.1:3478"]}
    assert servers[1]["username"].endswith(f":{people.gp.pk}") and servers[1]["credential"]
    client.force_login(people.gp)
    page = client.get(f"/rooms/{accepted.pk}/")
    assert page.status_code == 200 and secret.encode() not in page.content
    assert servers[1]["credential"].encode() not in page.content  # credentials go to joined sockets only


@pytest.mark.django_db(transaction=True)
def test_a_change_of_mode_is_recorded_on_the_act_with_its_figures(accepted, people):
    from caravane.telemed.models import TechnicalIncident

    async def scenario():
        specialist, _peer = await _join(people.cardiologist, accepted)
        await specialist.send_json_to({"type": "incident", "event": "audio", "rtt_ms": 850, "loss_pct": 12.5,
                                       "kbps": 96})
        await specialist.send_json_to({"type": "incident", "event": "conversation", "loss_pct": 31})
        # Each recorded incident is announced in the room (the specialist's report form shows it at once).
        for _ in range(2):
            assert (await specialist.receive_json_from(timeout=2))["event"] == "rooms.incident"
        for frame in ({"type": "incident", "event": "party"}, {"type": "incident", "event": "audio", "kbps": -1},
                      {"type": "incident", "event": "audio", "loss_pct": "12"}):
            await specialist.send_json_to(frame)
            assert (await specialist.receive_json_from(timeout=2))["code"] == "bad_incident"
        await specialist.disconnect()
        # The nurse reads no act page, yet her link's incidents are the act's too: recorded as a call participant.
        nurse, _peer = await _join(people.nurse, accepted)
        await nurse.send_json_to({"type": "incident", "event": "lost"})
        assert (await nurse.receive_json_from(timeout=2))["event"] == "rooms.incident"
        await nurse.disconnect()

    async_to_sync(scenario)()
    incidents = list(TechnicalIncident.objects.filter(act=accepted).order_by("occurred_at"))
    assert [(i.category, i.reporter.user_id) for i in incidents] == [
        ("connectivity", people.cardiologist.pk)] * 2 + [("connectivity", people.nurse.pk)]
    assert audit_rows("telemed.incident", people.nurse) == [("allowed", "")]
    # Written in the deployment's language (French here), whatever the reporting page's.
    assert incidents[0].description == ("Appel passé en son seul : liaison trop faible pour la vidéo "
                                        "(aller-retour 850 ms, pertes 12.5 %, 96 kbit/s disponibles)")
    assert incidents[1].description.endswith("trop faible pour le son (pertes 31 %)")


@pytest.mark.django_db(transaction=True)
def test_an_idle_socket_outlives_the_channel_layers_blocking_read(accepted, people):
    """A call's socket may stay quiet for minutes; with REDIS_URL set, this is the Redis layer's case (its
    blocking read lasts 5 s, and redis-py's default socket timeout was as long)."""
    import asyncio

    from channels.layers import get_channel_layer

    # Quiet for longer than the layer's blocking read (the in-memory layer has none).
    quiet_seconds = getattr(get_channel_layer(), "brpop_timeout", 0) + 2

    async def scenario():
        socket, _peer = await _join(people.gp, accepted)
        await asyncio.sleep(quiet_seconds)
        await socket.send_to(text_data="{")
        assert await socket.receive_json_from(timeout=3) == {"type": "error", "code": "not_json"}
        await socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_cut_socket_leaves_the_act_in_progress_and_either_side_calls_again(accepted, people):
    from caravane.rooms.models import Attendance
    from caravane.telemed.actions import do_start
    from caravane.telemed.models import ServiceRequest

    do_start(actor=people.cardiologist, act=accepted)

    async def scenario():
        site, site_peer = await _join(people.gp, accepted)
        specialist, specialist_peer = await _join(people.cardiologist, accepted)
        await site.receive_json_from(timeout=2)
        await specialist.receive_json_from(timeout=2)
        # The site's link is cut (no hang-up): the specialist is told it left; the act is not touched.
        await site.disconnect(code=1006)
        assert await specialist.receive_json_from(timeout=2) == {"type": "leave", "peer": site_peer}
        # The site's page comes back (a new socket, a new peer id) and the call is set up again.
        again, again_peer = await _join(people.gp, accepted)
        assert again_peer != site_peer
        joined = await specialist.receive_json_from(timeout=2)
        assert (joined["type"], joined["peer"], joined["offer"]) == ("peer", again_peer, False)
        present = await again.receive_json_from(timeout=2)
        assert (present["peer"], present["offer"]) == (specialist_peer, True)
        await again.send_json_to({"type": "offer", "to": specialist_peer, "sdp": SDP})
        assert (await specialist.receive_json_from(timeout=2))["from"] == again_peer
        # The specialist hangs up and calls again too.
        await specialist.send_json_to({"type": "hangup"})
        assert (await again.receive_json_from(timeout=2))["type"] == "hangup"
        await specialist.disconnect()
        back, _back_peer = await _join(people.cardiologist, accepted)
        assert (await again.receive_json_from(timeout=2))["type"] == "peer"
        await back.disconnect()
        await again.disconnect()

    async_to_sync(scenario)()
    assert ServiceRequest.objects.get(pk=accepted.pk).status == "in_progress"
    reasons = sorted(reason for _outcome, reason in audit_rows("rooms.leave"))
    assert reasons == ["connection closed", "connection closed", "connection closed", "hang-up"]
    assert Attendance.objects.filter(act=accepted, left_at__isnull=True).count() == 0


def test_a_step_to_sound_from_the_conversation_is_recorded_as_a_recovery():
    from django.conf import settings
    from django.utils import translation

    from caravane.rooms.consumers import BACK_TO_SOUND, INCIDENTS, incident_description

    with translation.override(settings.LANGUAGE_CODE):
        down, back = str(INCIDENTS["audio"]), str(BACK_TO_SOUND)
    assert incident_description({"event": "audio", "rtt_ms": 300}, "video").startswith(down)
    assert incident_description({"event": "audio", "rtt_ms": 300}, "conversation").startswith(back)
