"""Device readings over MQTT: readings stored per second, and the delay from publish to the nurse's screen.

Usage: .venv/bin/python bench/device_ingest.py [--burst 300] [--paced 100] [--rate 10] [--ports 18320-18329]
Needs the Mosquitto broker (127.0.0.1:1883), PostgreSQL (DATABASE_URL, default postgres@127.0.0.1/wt_devices,
created if missing) and Redis (REDIS_URL, default redis://127.0.0.1:6379/3). Sets up a site, a nurse, a visit
and a blood-pressure monitor in use for it; runs `devices-listen`'s listener in this process, one uvicorn server
on the first free port of ``--ports`` with the nurse's WebSocket on the site's readings feed. Topics are under
``wt/devices/bench-…``.

- Burst: ``--burst`` messages (GATT bytes of 0x2A35) published at once; readings per second = messages / time
  from the first publish to the last reading stored (pending in the visit, ready to confirm).
- Paced: ``--paced`` messages at ``--rate`` per second; the delay of each runs from its publish to the event
  reaching the nurse's WebSocket. Target: p99 under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import json
import os
import struct
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
from benchlib import latency, percentile, postgres_url, verdict  # noqa: E402

TARGET_P99_MS = 1000


def bp_payload(systolic: int) -> bytes:
    """0x2A35: mmHg, pulse; SFLOAT values with exponent 0."""
    return bytes([0x04]) + b"".join(struct.pack("<H", v) for v in (systolic, 80, 100, 70))


def prepare():
    """A site with a nurse (session cookie), a visit with the nurse, a monitor in use for it."""
    from django.conf import settings
    from django.test import Client

    from caravane.accounts.models import User
    from caravane.care import actions as care_actions
    from caravane.core.models import new_uuid7
    from caravane.devices.models import Device
    from caravane.geo.models import Commune, Province, Region
    from caravane.network.models import Assignment, DeviceKind, Site, StaffMember
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    tag = uuid.uuid4().hex[:6]
    region, _ = Region.objects.get_or_create(code="97", defaults={"name_fr": "Bench", "name_ar": "ب", "population_2024": 0})
    province, _ = Province.objects.get_or_create(code="97.001", defaults={
        "name_fr": "Bench", "name_ar": "ب", "kind": "province", "region": region, "population_2024": 0})
    commune, _ = Commune.objects.get_or_create(code="97.001.01.01", defaults={
        "code_digits": "970010101", "name_fr": "Bench", "name_ar": "ب", "kind": "rural", "province": province,
        "region": region, "population_2024": 1, "centroid_lat": 31.5, "centroid_lon": -7.5, "geometry_source": "code",
        "geometry": {"type": "Point", "coordinates": [-7.5, 31.5]}})
    site = Site.objects.create(code=f"bench-devices-{tag}", name=f"Bench {tag}", kind=Site.Kind.RURAL_HEALTH_CENTRE,
                               commune=commune, latitude=31.5, longitude=-7.5)
    people = {}
    for role in ("assistant", "nurse"):
        user = User.objects.create_user(username=f"bench-devices-{role}-{tag}", password="bench-devices-pass")
        staff = StaffMember.objects.create(user=user, first_name=role, last_name=tag, role=role)
        Assignment.objects.create(staff=staff, site=site, start_date=datetime.date.today() - datetime.timedelta(days=1))
        people[role] = user
    pk = new_uuid7()
    patient = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name="Bench", family_name=tag,
                                     gender="female", birth_date=datetime.date(1970, 1, 1), registration_site=site)
    visit = care_actions.do_check_in(actor=people["assistant"], patient=patient, site=site)
    visit = care_actions.do_advance(actor=people["nurse"], encounter=visit, to="with_nurse")
    kind, _ = DeviceKind.objects.get_or_create(code="bp-monitor", defaults={
        "name_fr": "Tensiomètre", "name_ar": "ت", "name_en": "Blood-pressure monitor"})
    device = Device.objects.create(kind=kind, manufacturer="Omron", model_name="M7", serial_number=f"BENCH-{tag}",
                                   site=site, in_use_for=visit)
    client = Client()
    client.force_login(people["nurse"])
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return site, device, visit, cookie


def publish_all(publisher, topic: str, messages: list[dict], rate: float | None) -> dict[str, float]:
    """Publish messages (at ``rate`` per second, or at once); the monotonic time each left, by message id."""
    sent = {}
    started = time.monotonic()
    for index, message in enumerate(messages):
        if rate:
            time.sleep(max(0.0, started + index / rate - time.monotonic()))
        sent[message["message_id"]] = time.monotonic()
        publisher.publish(topic, json.dumps(message), qos=1)
    return sent


def messages(count: int) -> list[dict]:
    return [{"message_id": f"bench-{uuid.uuid4()}", "characteristic": "0x2A35",
             "gatt": base64.b64encode(bp_payload(110 + i % 40)).decode()} for i in range(count)]


async def watch(url: str, cookie: str, origin: str, expected: int, seconds: float, ready: threading.Event,
                received: dict) -> None:
    """Record when each reading's event reaches the WebSocket (monotonic time by reading id)."""
    import websockets

    async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": origin}) as socket:
        ready.set()
        deadline = time.monotonic() + seconds
        while len(received) < expected and time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=max(0.1, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
            event = json.loads(raw)
            if event.get("event") == "reading.changed" and event["payload"].get("state") == "pending":
                received.setdefault(event["payload"]["reading"], time.monotonic())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--paced", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--ports", default="18320-18329")
    args = parser.parse_args()
    first, last = (int(p) for p in args.ports.split("-"))
    os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL") or postgres_url("wt_devices")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caravane.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from caravane.devices import mqtt, topics
    from caravane.devices.models import Reading
    from tests.telemed import servers

    call_command("migrate", verbosity=0)
    site, device, visit, cookie = prepare()
    root = f"wt/devices/bench-{uuid.uuid4().hex[:6]}"
    topic = topics.reading_topic(site.code, device.pk, root)
    listener = mqtt.Listener(mqtt.Broker(), client_id=f"wt-devices-bench-{uuid.uuid4().hex[:6]}", root=root)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    publisher = mqtt.Broker().client(f"wt-devices-bench-pub-{uuid.uuid4().hex[:6]}", persistent=False)
    publisher.max_inflight_messages_set(100)
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    if not listener.connected.wait(10):
        raise SystemExit("the listener did not connect to 127.0.0.1:1883")
    time.sleep(0.5)
    try:
        # Burst: throughput of the listener into pending readings.
        burst = messages(args.burst)
        before = Reading.objects.filter(device=device).count()
        sent = publish_all(publisher, topic, burst, None)
        started = min(sent.values())
        while Reading.objects.filter(device=device).count() < before + args.burst:
            if time.monotonic() - started > 120:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        stored = Reading.objects.filter(device=device).count() - before
        print(f"device ingestion over MQTT (QoS 1) into pending readings, {os.environ['DATABASE_URL'].split('://')[0]}")
        print(f"  burst of {args.burst}: {stored} stored in {elapsed:.2f} s = {stored / elapsed:.0f} readings/s")

        # Paced: delay from publish to the nurse's WebSocket.
        with tempfile.TemporaryDirectory() as logs:
            started_servers = servers.start(1, env={"DATABASE_URL": os.environ["DATABASE_URL"],
                                                    "REDIS_URL": os.environ["REDIS_URL"], "CARAVANE_DATA_DIR": logs,
                                                    "PYTHONPATH": str(ROOT / "src")},
                                            log_dir=Path(logs), ports=range(first, last + 1))
            server = started_servers[0]
            try:
                received: dict[str, float] = {}
                ready = threading.Event()
                paced = messages(args.paced)
                watcher = threading.Thread(target=lambda: asyncio.run(watch(
                    f"{server.ws_base}/ws/devices/site/{site.pk}/", cookie, server.base_url, args.paced,
                    args.paced / args.rate + 30, ready, received)), daemon=True)
                watcher.start()
                if not ready.wait(15):
                    raise SystemExit(f"the WebSocket did not open:\n{server.log()[-2000:]}")
                time.sleep(0.3)
                sent = publish_all(publisher, topic, paced, args.rate)
                watcher.join(args.paced / args.rate + 35)
            finally:
                servers.stop(started_servers)
        ids = dict(Reading.objects.filter(message_id__in=list(sent)).values_list("pk", "message_id"))
        delays = [(received[str(pk)] - sent[message_id]) * 1000 for pk, message_id in ids.items()
                  if str(pk) in received]
        if not delays:
            raise SystemExit("no event reached the WebSocket")
        print(f"  paced {args.paced} at {args.rate:g}/s: {len(delays)} events on the nurse's WebSocket "
              f"(port {server.port})")
        print(f"  publish -> WebSocket   {latency(delays)}   max {max(delays):6.1f} ms   "
              f"{verdict(percentile(delays, 0.99), TARGET_P99_MS)}")
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        listener.stop()
        thread.join(5)


if __name__ == "__main__":
    main()
