"""ws/diagnostics/stream/<act>/: the live ECG or pulse-oximeter stream of an act's call, beside its video.

Admitted like the call itself: the gate grants ``rooms.join_call`` on the act (audited), for a teleconsultation or
a remote assistance whose call is open. The site's nurse or GP sends: binary frames from a device (checked,
then relayed), or a recording of the act's patient replayed in real time (``{"type": "replay", "recording": id}``,
the demo's and the tests' source). Every other participant's socket receives the frames as they are.
"""

from __future__ import annotations

import asyncio
import json
import time

from channels.db import database_sync_to_async
from django.core.exceptions import PermissionDenied
from django.http import Http404

from caravane.audit import gate
from caravane.audit.context import client_address_of
from caravane.audit.sockets import GatedFeedConsumer
from caravane.core.access import PHYSICIAN_ROLES, Perm, scope_of
from caravane.core.events import group_name
from caravane.diagnostics import stream
from caravane.diagnostics.models import EcgRecording
from caravane.diagnostics.selectors import SENDERS
from caravane.diagnostics.waveforms import Waveform
from caravane.telemed.actions import CALLABLE, SYNCHRONOUS
from caravane.telemed.models import ServiceRequest

MAX_BAD_FRAMES = 20
BAD_INPUT = 4400
# A sender may not flood the specialist's link: at most this many frames a second (five are needed).
MAX_FRAMES_PER_SECOND = 20


def stream_group(act_id) -> str:
    """The channel-layer group of an act's stream (a device gateway may send frames to it too)."""
    return group_name("diagnostics", "stream", act_id)


class StreamConsumer(GatedFeedConsumer):
    """One participant's socket on the act's stream."""

    replaying: asyncio.Task | None = None

    def group_for(self, user, *, act):
        act = gate.get(user, ServiceRequest.objects.all(), act, Perm.JOIN_CALL, audit_action="diagnostics.join_stream")
        if act.kind not in SYNCHRONOUS or act.status not in CALLABLE:
            raise PermissionDenied
        role = scope_of(user).role
        if role not in SENDERS and role not in PHYSICIAN_ROLES:
            raise PermissionDenied
        self.act = act
        self.sends = role in SENDERS
        return stream_group(act.pk)

    async def connect(self):
        self.bad_frames = 0
        self.window = (0.0, 0)
        await super().connect()

    async def disconnect(self, code):
        if self.replaying is not None:
            self.replaying.cancel()
        await super().disconnect(code)

    async def _refuse(self, code: str) -> None:
        self.bad_frames += 1
        await self.send(text_data=json.dumps({"type": "error", "code": code}))
        if self.bad_frames >= MAX_BAD_FRAMES:
            await self.close(code=BAD_INPUT)

    def _within_rate(self) -> bool:
        second, count = self.window
        now = time.monotonic()
        self.window = (now, 1) if now - second >= 1 else (second, count + 1)
        return self.window[1] <= MAX_FRAMES_PER_SECOND

    async def receive(self, text_data=None, bytes_data=None):
        if not self.sends:
            await self._refuse("receive_only")
            return
        if bytes_data is not None:
            try:
                stream.decode(bytes_data)
            except stream.FrameError as error:
                await self._refuse(error.code)
                return
            if not self._within_rate():
                await self._refuse("too_fast")
                return
            await self.relay(bytes_data)
            return
        try:
            command = json.loads(text_data or "")
        except ValueError:
            command = None
        if not isinstance(command, dict) or command.get("type") not in ("replay", "stop"):
            await self._refuse("unknown_command")
            return
        if self.replaying is not None:
            self.replaying.cancel()
            self.replaying = None
        if command["type"] == "replay":
            wave = await database_sync_to_async(self._recording)(command.get("recording"))
            if wave is None:
                await self._refuse("unknown_recording")
                return
            self.replaying = asyncio.create_task(self._replay(wave, bool(command.get("loop"))))

    def _recording(self, pk) -> Waveform | None:
        """A recording of the act's patient that the sender may read, as a waveform (audited as a read)."""
        user = self.scope["user"]
        client = self.scope.get("client") or (None, None)
        with gate.audited(client_address=client_address_of(client[0]), path=self.scope.get("path", ""),
                          method="WEBSOCKET") as outcome:
            try:
                recording = gate.get(user, EcgRecording.objects.filter(patient=self.act.patient_id), pk,
                                     Perm.VIEW_DIAGNOSTIC, audit_action="diagnostics.replay_ecg")
            except (Http404, PermissionDenied):
                outcome["status"] = 404
                return None
        if not recording.has_samples:
            return None
        import numpy as np

        samples = np.frombuffer(bytes(recording.samples), dtype="<i2").reshape(len(recording.leads), -1)
        return Waveform(recording.leads, recording.sampling_rate, samples, recording.gains, recording.baselines,
                        recording.units)

    async def _replay(self, wave: Waveform, loop: bool) -> None:
        """Send the recording's frames as a recorder would: each one when its last sample has been taken."""
        seq = 0
        while True:
            started = time.monotonic()
            wall = time.time()
            for leads, first, block in stream.stream_blocks(wave):
                due = started + (first + block.shape[1]) / stream.RATE
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                frame = stream.encode_ecg(seq=seq, first=first, samples=block, leads=leads,
                                          captured_ms=int((wall + first / stream.RATE) * 1000))
                seq += 1
                await self.relay(frame)
            if not loop:
                return

    async def relay(self, frame: bytes) -> None:
        await self.channel_layer.group_send(self.group, {"type": "stream.frame", "frame": frame,
                                                         "sender": self.channel_name})

    async def stream_frame(self, message):
        """A frame from the act's sender: passed on to every other socket."""
        if message["sender"] != self.channel_name:
            await self.send(bytes_data=message["frame"])
