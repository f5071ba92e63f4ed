"""The signalling of an act's call: ws/rooms/<act>/, one socket per participant, relayed through the channel layer.

A participant's socket is admitted by the gate (rooms.join, audited; a refusal closes it with 4403 and leaves a
denied row), gets its opaque peer id and its ICE servers (TURN credentials included) in a ``welcome``, and then
relays offers, answers and ICE candidates to a peer it names. Peers learn of each other by presence messages
(``peer``: the newcomer makes the offers), so the pages build a mesh, and an SFU could later stand in for the
other peers without changing them. Every frame is checked (type, size, fields, a known target): a bad one gets an
``error`` frame and changes nothing; a socket that keeps sending bad frames is closed, nobody else's.
"""

from __future__ import annotations

import json
import math

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from caravane.audit.sockets import GatedFeedConsumer
from caravane.rooms import actions, selectors
from caravane.telemed.actions import do_report_incident
from caravane.telemed.models import ServiceRequest, TechnicalIncident

MAX_FRAME = 32 * 1024  # an SDP with two or three media sections is a few kilobytes
MAX_SDP = 30 * 1024
MAX_CANDIDATE = 1024
MAX_BAD_FRAMES = 20
BAD_INPUT = 4400
RELAYED = ("offer", "answer", "ice")
MAX_INCIDENTS = 30  # per connection: a flapping or hostile page cannot flood the act's record
# What a page reports of its call (a change of mode, a lost or restored connection), as the act records it.
INCIDENTS = {
    "video": _("Call back to video"),
    "audio": _("Call switched to sound only: the link was too weak for video"),
    "conversation": _("Call switched to the conversation: the link was too weak for sound"),
    "lost": _("Call connection lost"),
    "restored": _("Call connection restored"),
}
# The same step to sound, taken up from the conversation: the link recovered, not failed.
BACK_TO_SOUND = _("Call back to sound only: the link recovered, still too weak for video")
MODES = ("video", "audio", "conversation")
FIGURES = (("rtt_ms", 60_000, _("round trip %s ms")), ("loss_pct", 100, _("loss %s %%")),
           ("kbps", 100_000, _("%s kbit/s available")))


class SignalError(ValueError):
    """A frame that is not a valid signal; ``code`` says why (sent back to its sender)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _text(value, limit: int, code: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise SignalError(code)
    return value


def _incident(frame: dict) -> dict:
    if frame.get("event") not in INCIDENTS:
        raise SignalError("bad_incident")
    signal = {"type": "incident", "event": frame["event"]}
    for name, limit, _label in FIGURES:
        value = frame.get(name)
        if value is None:
            continue
        if type(value) not in (int, float) or not math.isfinite(value) or not 0 <= value <= limit:
            raise SignalError("bad_incident")
        signal[name] = value
    return signal


def incident_description(signal: dict, previous_mode: str = "video") -> str:
    """The incident's text with its figures, in the deployment's language: the act's record and its signed report
    keep it as written, whoever's page reported it. A step to sound from the conversation is a recovery."""
    with translation.override(settings.LANGUAGE_CODE):
        figures = [str(label) % signal[name] for name, _limit, label in FIGURES if name in signal]
        recovered = signal["event"] == "audio" and previous_mode == "conversation"
        text = BACK_TO_SOUND if recovered else INCIDENTS[signal["event"]]
        return str(text) + (f" ({', '.join(figures)})" if figures else "")


def parse_signal(text: str | None, binary: bytes | None = None) -> dict:
    """The signal a client frame carries, with only the fields it may carry; SignalError for anything else."""
    if binary is not None or text is None:
        raise SignalError("binary_frame")
    if len(text) > MAX_FRAME:
        raise SignalError("too_large")
    try:
        frame = json.loads(text)
    except ValueError:
        raise SignalError("not_json")
    if not isinstance(frame, dict):
        raise SignalError("not_an_object")
    kind = frame.get("type")
    if kind == "hangup":
        return {"type": "hangup"}
    if kind == "incident":
        return _incident(frame)
    if kind not in RELAYED:
        raise SignalError("unknown_type")
    signal = {"type": kind, "to": _text(frame.get("to"), 32, "bad_target")}
    if kind in ("offer", "answer"):
        sdp = _text(frame.get("sdp"), MAX_SDP, "bad_sdp")
        if not sdp.startswith("v=0"):
            raise SignalError("bad_sdp")
        signal["sdp"] = sdp
        return signal
    candidate = frame.get("candidate")
    if candidate is not None:  # None: the end of the sender's candidates
        if not isinstance(candidate, dict):
            raise SignalError("bad_candidate")
        line = candidate.get("candidate")
        if not isinstance(line, str) or len(line) > MAX_CANDIDATE:
            raise SignalError("bad_candidate")
        mid = _text(candidate.get("sdpMid"), 64, "bad_candidate", required=False)
        index = candidate.get("sdpMLineIndex")
        if index is not None and (type(index) is not int or not 0 <= index < 64):
            raise SignalError("bad_candidate")
        candidate = {"candidate": line, "sdpMid": mid, "sdpMLineIndex": index}
    signal["candidate"] = candidate
    return signal


class RoomConsumer(GatedFeedConsumer):
    """ws/rooms/<act>/: one participant's signalling in the act's call."""

    attendance = None
    has_left = False
    incidents = 0
    mode = "video"  # the call's mode on this connection's page, as its last reported step says

    def group_for(self, user, *, act):
        act = ServiceRequest.objects.select_related("requesting_site", "patient").filter(pk=act).first()
        if act is None:
            raise Http404
        self.act = act
        self.attendance = actions.do_join(actor=user, act=act)
        self.ice_servers = selectors.ice_servers(user)
        self.identity = {"name": user.staff.full_name, "role": selectors.participant_role(user, act)}
        return selectors.room_group(act.pk)

    async def connect(self):
        self.peers: set[str] = set()
        self.bad_frames = 0
        await super().connect()
        if self.attendance is None or not hasattr(self, "group"):
            return
        await self.send_json({"type": "welcome", "peer": self.attendance.peer, "iceServers": self.ice_servers,
                              "role": self.identity["role"], "maxParticipants": selectors.MAX_PARTICIPANTS})
        await self._send_to_room({"type": "join", **self.identity})

    async def disconnect(self, code):
        await self._leave("leave", "connection closed")
        await super().disconnect(code)

    async def _leave(self, signal: str, reason: str) -> None:
        """Tell the others and end the attendance, once: the server may close first (a hang-up, bad frames), and
        then it need not hear of the close again."""
        if self.attendance is None or not hasattr(self, "group") or self.has_left:
            return
        self.has_left = True
        await self._send_to_room({"type": signal})
        await database_sync_to_async(actions.do_leave)(actor=self.scope["user"], attendance=self.attendance,
                                                       reason=reason)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            signal = parse_signal(text_data, bytes_data)
            if signal.get("to") is not None and signal["to"] not in self.peers:
                raise SignalError("unknown_peer")
        except SignalError as error:
            self.bad_frames += 1
            await self.send_json({"type": "error", "code": error.code})
            if self.bad_frames >= MAX_BAD_FRAMES:
                await self._leave("leave", "too many invalid frames")
                await self.close(code=BAD_INPUT)
            return
        if signal["type"] == "incident":
            await self._record_incident(signal)
            return
        if signal["type"] == "hangup":
            await self._leave("hangup", "hang-up")
            await self.close()
            return
        await self._send_to_room(signal)

    async def _record_incident(self, signal: dict) -> None:
        self.incidents += 1
        if self.incidents > MAX_INCIDENTS:
            await self.send_json({"type": "error", "code": "too_many_incidents"})
            return
        try:
            # Reported as a participant of the call (the requesting site's nurse reads no act page, yet her link's
            # incidents belong in the act's record too).
            await database_sync_to_async(do_report_incident)(
                actor=self.scope["user"], act=self.act, category=TechnicalIncident.Category.CONNECTIVITY,
                description=incident_description(signal, self.mode), in_call=True)
            if signal["event"] in MODES:
                self.mode = signal["event"]
            await self.channel_layer.group_send(self.group, {
                "type": "caravane.event", "event": "rooms.incident",
                "payload": {"act": str(self.act.pk), "peer": self.attendance.peer, "step": signal["event"]}})
        except (PermissionDenied, ValidationError):
            # The act closed meanwhile (or the participant lost their access): the page is told, nothing recorded.
            await self.send_json({"type": "error", "code": "incident_not_recorded"})

    async def _send_to_room(self, signal: dict) -> None:
        await self.channel_layer.group_send(self.group, {
            "type": "room.signal", "from": self.attendance.peer, "signal": signal})

    async def room_signal(self, message):
        """A signal from another participant's socket: kept when it is for everyone or for this peer."""
        sender, signal = message["from"], message["signal"]
        if sender == self.attendance.peer or signal.get("to") not in (None, self.attendance.peer):
            return
        kind = signal["type"]
        if kind in ("join", "present"):
            self.peers.add(sender)
            # The newcomer offers to everyone already there; they answer.
            await self.send_json({"type": "peer", "peer": sender, "name": signal["name"], "role": signal["role"],
                                  "offer": kind == "present"})
            if kind == "join":
                await self._send_to_room({"type": "present", "to": sender, **self.identity})
        elif kind in ("leave", "hangup"):
            self.peers.discard(sender)
            await self.send_json({"type": kind, "peer": sender})
        elif sender in self.peers:
            await self.send_json({**{k: v for k, v in signal.items() if k != "to"}, "from": sender})
