"""Two real WebRTC peers (aiortc) signal through the room's consumer and connect: directly, and through a real
coturn relay with credentials the room's welcome gave them."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import VideoStreamTrack
from aiortc.sdp import candidate_from_sdp
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from caravane.routing import websocket_urlpatterns

application = URLRouter(websocket_urlpatterns)
CONNECT_SECONDS = 20


def _relay_only(sdp: str) -> str:
    """The description with only its relayed candidates: the other side can reach this one only through TURN."""
    return "".join(line for line in sdp.splitlines(keepends=True)
                   if not line.startswith("a=candidate:") or " typ relay" in line)


class Peer:
    """An aiortc peer driven by the room's signalling, as the page's module drives a browser's."""

    def __init__(self, user, act, *, relay_only: bool = False):
        self.socket = WebsocketCommunicator(application, f"/ws/rooms/{act.pk}/")
        self.socket.scope["user"] = user
        self.relay_only = relay_only
        self.pc = None
        self.frames = asyncio.Queue()
        self.ice_servers = []

    async def join(self):
        connected, code = await self.socket.connect()
        assert connected, code
        welcome = await self.socket.receive_json_from(timeout=5)
        self.peer = welcome["peer"]
        self.ice_servers = welcome["iceServers"]
        servers = [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
                   for s in self.ice_servers]
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.pc.addTrack(VideoStreamTrack())

        @self.pc.on("track")
        def on_track(track):
            asyncio.ensure_future(self._first_frame(track))

    async def _first_frame(self, track):
        await self.frames.put(await track.recv())

    def _description(self) -> str:
        sdp = self.pc.localDescription.sdp
        return _relay_only(sdp) if self.relay_only else sdp

    async def _send_candidates(self, to: str):
        # aiortc gathers before it describes; the candidates also go one by one, as a browser trickles them.
        for line in self._description().splitlines():
            if line.startswith("a=candidate:"):
                candidate = {"candidate": line[2:], "sdpMid": "0", "sdpMLineIndex": 0}
                await self.socket.send_json_to({"type": "ice", "to": to, "candidate": candidate})
        await self.socket.send_json_to({"type": "ice", "to": to, "candidate": None})

    async def handle(self, message):
        if message["type"] == "peer" and message["offer"]:
            await self.pc.setLocalDescription(await self.pc.createOffer())
            await self.socket.send_json_to({"type": "offer", "to": message["peer"], "sdp": self._description()})
            await self._send_candidates(message["peer"])
        elif message["type"] == "offer":
            await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.socket.send_json_to({"type": "answer", "to": message["from"], "sdp": self._description()})
        elif message["type"] == "answer":
            await self.pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
        elif message["type"] == "ice" and message["candidate"]:
            candidate = candidate_from_sdp(message["candidate"]["candidate"].split(":", 1)[1])
            candidate.sdpMid, candidate.sdpMLineIndex = message["candidate"]["sdpMid"], 0
            await self.pc.addIceCandidate(candidate)

    async def run(self):
        while True:
            await self.handle(await self.socket.receive_json_from(timeout=CONNECT_SECONDS))

    async def close(self):
        if self.pc is not None:
            await self.pc.close()
        await self.socket.disconnect()


async def _call(site: Peer, specialist: Peer):
    """Join both, let them signal until each has decoded a frame of the other's video; the connection's pair."""
    await site.join()
    await specialist.join()
    loops = [asyncio.ensure_future(peer.run()) for peer in (site, specialist)]
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            frames = [await site.frames.get(), await specialist.frames.get()]
        states = (site.pc.connectionState, specialist.pc.connectionState)
        return frames, states
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await site.close()
        await specialist.close()


@pytest.mark.django_db(transaction=True)
def test_two_aiortc_peers_connect_through_the_room(accepted, people):
    frames, states = async_to_sync(_call)(Peer(people.gp, accepted), Peer(people.cardiologist, accepted))
    assert states == ("connected", "connected")
    assert all(frame.width > 0 and frame.height > 0 for frame in frames)


@pytest.mark.django_db(transaction=True)
def test_the_call_connects_through_coturn_alone(accepted, people, turnserver, settings):
    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, turn_urls=[turnserver.url],
                                            turn_secret=turnserver.secret, turn_ttl=300)
    site = Peer(people.gp, accepted, relay_only=True)
    specialist = Peer(people.cardiologist, accepted, relay_only=True)
    frames, states = async_to_sync(_call)(site, specialist)
    assert states == ("connected", "connected")
    assert all(frame.width > 0 for frame in frames)
    # Each side offered only its relay's address and bound a channel on it: the media went through coturn.
    assert site.ice_servers[0]["urls"] == [turnserver.url] and "credential" in site.ice_servers[0]
    log = turnserver.log()
    for user in (people.gp, people.cardiologist):
        assert f":{user.pk}>: incoming packet CHANNEL_BIND processed, success" in log, log
