"""Live ECG streaming at 500 Hz across a 256 kbit/s link: p99 age of a sample on the receiving screen, gaps, bit rate.

Usage: .venv/bin/python bench/ecg_stream.py [--seconds 30] [--competing-kbps 0] [--record synthetic|mitdb_100]

A real server (uvicorn, the project's ASGI stack for WebSockets, the diagnostics stream consumer, the channel
layer: in-memory, or Redis with REDIS_URL) listens on 127.0.0.1:18401. A sender socket sends the frames of a
12-lead recording at 500 Hz as a recorder would (each 200 ms frame once its last sample is taken: I, II and
V1-V6; III, aVR, aVL and aVF are derived by the receiver); a receiver socket decodes every frame and derives the
four limb leads, as the specialist's page does. tc/netns need root, so the 256 kbit/s link is a token bucket in
the sender (32,000 bytes/s, burst 1,500 bytes) through which every frame's bytes (payload and WebSocket framing)
must pass; ``--competing-kbps`` makes the call's other traffic (video, say) take its share of the same bucket.
The gate is not asked (no database): the bench measures the path of a frame, not the admission.
Age of a sample: the time it reaches the receiver, decoded, minus the time it was taken.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path

from benchlib import percentile, setup_django

setup_django(temporary_data=True)

import numpy as np  # noqa: E402
import uvicorn  # noqa: E402
import websockets  # noqa: E402
from channels.routing import URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from caravane.diagnostics import stream  # noqa: E402
from caravane.diagnostics.consumers import StreamConsumer, stream_group  # noqa: E402

PORT = 18401
LINK_BYTES_PER_SECOND = 256_000 / 8
BURST = 1500
WS_FRAMING = 8  # a client's binary frame of 126-65535 bytes: 2 + 2 (length) + 4 (mask)
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ecg" / "wfdb"


class UngatedStream(StreamConsumer):
    """The stream consumer without its gate: ``?site`` sends, anyone else receives."""

    def _admit(self):
        self.sends = b"site" in self.scope.get("query_string", b"")
        return stream_group(self.scope["url_route"]["kwargs"]["act"]), 0


class TokenBucket:
    """A link of ``rate`` bytes per second: a send waits until the bucket holds its bytes."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, size: int) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= min(size, self.burst):
                    self.tokens -= size  # may go below zero: a frame larger than the burst waits it out after
                    return
                await asyncio.sleep((min(size, self.burst) - self.tokens) / self.rate)


def recording(name: str):
    """The 12-lead synthetic ECG, or a public WFDB record (its leads that are stream leads)."""
    from caravane.diagnostics.synthetic import synthetic_12_lead
    from caravane.diagnostics.waveforms import read_wfdb

    if name == "synthetic":
        return synthetic_12_lead(seconds=120)
    files = {p.name: p.read_bytes() for p in (SHARED / name).iterdir() if p.suffix in (".hea", ".dat")}
    head = next(n for n in files if n.endswith(".hea"))
    return read_wfdb((head, files[head]), {k: v for k, v in files.items() if k != head})


async def competing(bucket: TokenBucket, kbps: float, stop: asyncio.Event) -> None:
    """The call's other traffic: 1,200-byte packets at ``kbps``."""
    while kbps and not stop.is_set():
        await bucket.take(1200)
        await asyncio.sleep(1200 * 8 / (kbps * 1000))


async def run(args) -> None:
    application = URLRouter([path("ws/diagnostics/stream/<uuid:act>/", UngatedStream.as_asgi())])
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=PORT, log_level="warning",
                                           ws="websockets-sansio", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    act = uuid.uuid4()
    url = f"ws://127.0.0.1:{PORT}/ws/diagnostics/stream/{act}/"
    wave = recording(args.record)
    frames = [block for block in stream.stream_blocks(wave)][: int(args.seconds * 1000 / stream.FRAME_MS)]
    ages, sent_bytes, link_bytes, received = [], 0, 0, 0
    expected, gaps = None, 0
    derived_ok = True
    bucket = TokenBucket(LINK_BYTES_PER_SECOND, BURST)
    stop = asyncio.Event()

    async with websockets.connect(url) as receiver, websockets.connect(url + "?site") as sender:
        await asyncio.sleep(0.2)

        async def receive():
            nonlocal received, expected, gaps, derived_ok
            while received < len(frames):
                data = await receiver.recv()
                frame = stream.decode(data)
                values = frame.samples / frame.gain
                if "I" in frame.leads and "II" in frame.leads:
                    derived = stream.derive_limb_leads(values[frame.leads.index("I")], values[frame.leads.index("II")])
                    derived_ok &= all(np.isfinite(v).all() for v in derived.values())
                now = time.time() * 1000
                taken = frame.captured_ms + np.arange(frame.count) * 1000 / frame.rate
                ages.extend((now - taken).tolist())
                if expected is not None and frame.first != expected:
                    gaps += abs(frame.first - expected)
                expected = frame.first + frame.count
                received += 1

        receiving = asyncio.create_task(receive())
        noise = asyncio.create_task(competing(bucket, args.competing_kbps, stop))
        started_wall, started = time.time(), time.monotonic()
        for seq, (leads, first, block) in enumerate(frames):
            # The frame is complete when its last sample is taken.
            await asyncio.sleep(max(0.0, started + (first + block.shape[1]) / stream.RATE - time.monotonic()))
            data = stream.encode_ecg(seq=seq, first=first, samples=block, leads=leads,
                                     captured_ms=int((started_wall + first / stream.RATE) * 1000))
            await bucket.take(len(data) + WS_FRAMING)
            await sender.send(data)
            sent_bytes += len(data)
            link_bytes += len(data) + WS_FRAMING
        await asyncio.wait_for(receiving, timeout=30)
        stop.set()
        noise.cancel()
    server.should_exit = True
    await serving
    seconds = len(frames) * stream.FRAME_MS / 1000
    leads = len(frames[0][0])
    print(f"record: {args.record}, {seconds:.0f} s at {stream.RATE} Hz, {leads} leads sent "
          f"({'+4 derived on receipt' if leads == 8 else 'no derived leads: I and II are not both there'}); "
          f"link 256 kbit/s token bucket, competing traffic {args.competing_kbps:g} kbit/s")
    print(f"frames sent/received: {len(frames)}/{received}; gaps (samples missing): {gaps}; "
          f"derived leads finite: {derived_ok}")
    print(f"sample age on receipt: p50 {percentile(ages, 0.5):.0f} ms, p99 {percentile(ages, 0.99):.0f} ms, "
          f"max {max(ages):.0f} ms (target p99 < 1000 ms; a frame holds 200 ms of samples)")
    print(f"bit rate: frames {sent_bytes * 8 / seconds / 1000:.1f} kbit/s, with WebSocket framing "
          f"{link_bytes * 8 / seconds / 1000:.1f} kbit/s (target <= 24; raw 12 x 500 Hz x 16 bit = 96 kbit/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--competing-kbps", type=float, default=0)
    parser.add_argument("--record", default="synthetic")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
