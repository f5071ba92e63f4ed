"""The live stream: frames that decode to what was sent, derived leads never sent; the site replays a recording
to the specialist; refusals for outsiders, receivers that send, and hostile frames."""

from __future__ import annotations

import json

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from caravane.diagnostics import stream
from caravane.diagnostics.actions import Filing, Received, do_import_ecg
from caravane.diagnostics.synthetic import to_dicom_ecg
from caravane.routing import websocket_urlpatterns

application = URLRouter(websocket_urlpatterns)


def test_a_frame_decodes_to_its_samples_and_twelve_leads_fit_in_24_kbit(twelve_lead):
    sizes = []
    for seq, (leads, first, block) in enumerate(stream.stream_blocks(twelve_lead)):
        frame = stream.encode_ecg(seq=seq, first=first, samples=block, leads=leads, captured_ms=0)
        decoded = stream.decode(frame)
        assert decoded.leads == leads == stream.STREAM_LEADS and (decoded.samples == block).all()
        sizes.append(len(frame))
    assert len(sizes) == 50  # 10 s in 200 ms frames
    assert sum(sizes) * 8 / 10 <= 24_000
    i, ii = twelve_lead.physical(0), twelve_lead.physical(1)
    derived = stream.derive_limb_leads(i, ii)
    for name in ("III", "aVR", "aVL", "aVF"):
        assert np.allclose(derived[name], twelve_lead.physical(twelve_lead.leads.index(name)), atol=0.02)


@pytest.mark.parametrize("frame", [b"", b"\x01" * 10, b"\x09" + b"\x00" * 40,
                                   stream.HEADER.pack(1, 1, 500, 0, 0, 100, 0b11, 200.0, 0) + b"\x00garbage"])
def test_a_hostile_frame_is_refused(frame):
    with pytest.raises(stream.FrameError):
        stream.decode(frame)


def _socket(user, act):
    communicator = WebsocketCommunicator(application, f"/ws/diagnostics/stream/{act.pk}/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
def test_the_site_replays_a_recording_to_the_specialist_live(request_act, people, twelve_lead):
    from caravane.telemed.actions import do_accept

    act = do_accept(actor=people.cardiologist, act=request_act())
    ecg = do_import_ecg(actor=people.gp, filing=Filing(act=act),
                        received=[Received("ecg.dcm", "application/dicom", to_dicom_ecg(twelve_lead))])

    async def scenario():
        site, specialist = _socket(people.nurse, act), _socket(people.cardiologist, act)
        assert (await site.connect())[0] and (await specialist.connect())[0]
        outsider = _socket(people.other_gp, act)
        connected, code = await outsider.connect()
        assert not connected and code == 4403
        await specialist.send_to(bytes_data=b"x" * 40)
        assert json.loads(await specialist.receive_from(timeout=2))["code"] == "receive_only"
        await site.send_to(bytes_data=b"\x01" * 12)
        assert json.loads(await site.receive_from(timeout=2))["code"] == "bad_size"
        await site.send_to(text_data=json.dumps({"type": "replay", "recording": str(ecg.pk)}))
        frames = [stream.decode(await specialist.receive_from(timeout=3)) for _ in range(5)]
        assert [f.first for f in frames] == [0, 100, 200, 300, 400] and frames[0].leads == stream.STREAM_LEADS
        assert np.array_equal(frames[1].samples[1], twelve_lead.samples[1, 100:200])
        await site.send_to(text_data=json.dumps({"type": "stop"}))
        await site.disconnect()
        await specialist.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_no_stream_for_an_act_without_a_call(request_act, people):
    act = request_act(kind="teleexpertise")

    async def scenario():
        connected, code = await _socket(people.nurse, act).connect()
        assert not connected and code == 4403

    async_to_sync(scenario)()
