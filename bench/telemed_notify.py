"""Delay of a telemedicine notification between two server processes through Redis: p50/p99.

Usage: .venv/bin/python bench/telemed_notify.py [--requests 200] [--ports 8070-8079] [--database NAME]
Needs PostgreSQL and Redis (DATABASE_URL's server or postgres@127.0.0.1; REDIS_URL or redis://127.0.0.1:6379/0).
Uses the database of bench/telemed_worklist.py (``caravane_telemed_bench`` unless ``--database`` names another,
its network built if missing), starts two uvicorn processes on the first two free ports of ``--ports`` (a range
FIRST-LAST, or one port: the two that begin there), connects a specialist's WebSocket to the second and posts
requests to the first one's API as a GP; the delay runs from the POST leaving the client to the event reaching
the WebSocket (an upper bound: it includes handling the request). Target: p99 under 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
from benchlib import latency, percentile, postgres_url, verdict  # noqa: E402
from tests.telemed.servers import PORTS  # noqa: E402

TARGET_P99_MS = 250


def prepare():
    """A GP's token, a specialist's session, a visit with consent, and the hub that requests reach."""
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from caravane.accounts.actions import do_create_api_token
    from caravane.care.models import Encounter
    from caravane.network.models import Site, StaffMember
    from caravane.patients.models import Consent

    gp = StaffMember.objects.select_related("user").get(user__username="bench-gp-0")
    spoke = Site.objects.get(code="bench-spoke-0")
    specialist = StaffMember.objects.select_related("user").get(user__username=f"bench-{spoke.parent.code}-cardiology")
    consent = Consent.objects.filter(site=spoke).first()
    now = timezone.now()
    encounter, _ = Encounter.objects.get_or_create(
        patient_id=consent.patient_id, site=spoke, service_date=timezone.localdate(),
        defaults={"checked_in_at": now, "checked_in_by": gp, "status": "with_gp", "gp_started_at": now,
                  "practitioner": gp})
    _token, raw = do_create_api_token(user=gp.user, name="notify bench",
                                      expires_at=now + datetime.timedelta(hours=1))
    client = Client()
    client.force_login(specialist.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return raw, cookie, encounter, spoke.parent


async def measure(first, second, raw, cookie, encounter, hub, count) -> list[float]:
    import websockets

    url = f"{second.ws_base}/ws/telemed/hub/{hub.pk}/cardiology/"
    delays = []
    async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": second.base_url}) as ws:
        for n in range(count + 5):
            body = json.dumps({"encounter": str(encounter.pk), "kind": "teleexpertise", "specialty": "cardiology",
                               "priority": "routine", "question": f"Bench question {n}"}).encode()
            request = urllib.request.Request(f"{first.base_url}/api/telemed/service-requests", data=body,
                                             method="POST", headers={"Authorization": f"Bearer {raw}",
                                                                     "Content-Type": "application/json"})
            begun = time.perf_counter()
            posted = asyncio.create_task(asyncio.to_thread(lambda r=request: urllib.request.urlopen(r, timeout=10)
                                                           .read()))
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                if message["event"] == "telemed.requested":
                    break
            arrived = time.perf_counter()
            created = json.loads(await posted)
            assert message["payload"]["act"] == created["id"], "events arrived out of order"
            if n >= 5:  # the first requests warm both processes
                delays.append((arrived - begun) * 1000)
    return delays


def port_range(text: str) -> range:
    """``FIRST-LAST`` (or one port: it and the next) as a range of ports."""
    try:
        first, _, last = text.partition("-")
        ports = range(int(first), int(last or int(first) + 1) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port or a range FIRST-LAST") from None
    if len(ports) < 2 or ports.start < 1 or ports.stop > 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range of at least two ports between 1 and 65535")
    return ports


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--ports", type=port_range, default=f"{PORTS.start}-{PORTS.stop - 1}",
                        help="ports for the two servers, FIRST-LAST (default %(default)s)")
    parser.add_argument("--database", help="PostgreSQL database (default: bench/telemed_worklist.py's)")
    args = parser.parse_args()
    from bench.telemed_worklist import BENCH_DB, build_network

    os.environ["DATABASE_URL"] = postgres_url(args.database or BENCH_DB)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caravane.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from tests.telemed import servers

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        build_network()
    raw, cookie, encounter, hub = prepare()
    with tempfile.TemporaryDirectory() as logs:
        started = servers.start(2, env={"DATABASE_URL": os.environ["DATABASE_URL"],
                                        "REDIS_URL": os.environ["REDIS_URL"], "CARAVANE_DATA_DIR": logs},
                                log_dir=Path(logs), ports=args.ports)
        try:
            delays = asyncio.run(measure(*started, raw, cookie, encounter, hub, args.requests))
        finally:
            servers.stop(started)
    print(f"notification from server :{started[0].port} to a WebSocket on :{started[1].port} through Redis, "
          f"{len(delays)} requests")
    print(f"  POST sent -> event received   {latency(delays)}   max {max(delays):6.1f} ms   "
          f"{verdict(percentile(delays, 0.99), TARGET_P99_MS)}")


if __name__ == "__main__":
    main()
