"""Latency of the API's site and staff lists on the demo network: p50/p99 per endpoint and caller.

Usage: CARAVANE_DATA_DIR=/tmp/caravane-bench .venv/bin/python bench/api_latency.py [--requests 200]
Runs against the database of CARAVANE_DATA_DIR (or DATABASE_URL), building the demo network there
first if it is empty. Requests go through Django's full stack in-process (middleware, bearer-token
auth, scope, pagination, audit rows for staff reads), so the figures exclude the network.
Target: p99 under 150 ms for a 50-row page, so a list answers promptly even on a loaded server.
"""

from __future__ import annotations

import argparse
import time

from benchlib import p50_p99, setup_django

setup_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

TARGET_P99_MS = 150
CALLERS = ("coordinator", "coordinator.draa-tafilalet", "nurse.imilchil")
ENDPOINTS = ("/api/sites", "/api/sites?kind=mobile_unit", "/api/sites?q=centre", "/api/staff",
             "/api/staff?role=nurse", "/api/staff?page=2&page_size=200")


def measure(client: Client, url: str, headers: dict, requests: int) -> tuple[list[float], int]:
    """Milliseconds of each request after two warm-up calls, and the row count the endpoint reported."""
    for _ in range(2):
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code} {response.content[:200]!r}")
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, response.json()["count"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="Timed requests per endpoint and caller.")
    args = parser.parse_args()

    from caravane.accounts.actions import do_create_api_token, do_revoke_api_token
    from caravane.accounts.models import User
    from caravane.geo.models import Commune

    call_command("migrate", interactive=False, verbosity=0)
    if not Commune.objects.exists():
        call_command("demo")
    client = Client()
    database = connection.vendor
    print(f"API list latency on the demo network ({database}), {args.requests} requests each, in ms")
    print(f"{'caller':28} {'endpoint':36} {'rows':>5} {'p50':>7} {'p99':>7}")
    worst = 0.0
    for username in CALLERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            print(f"{username:28} (not in this demo network: skipped)")
            continue
        token, raw = do_create_api_token(user=user, name="api latency bench")
        headers = {"Authorization": f"Bearer {raw}"}
        try:
            for url in ENDPOINTS:
                samples, rows = measure(client, url, headers, args.requests)
                p50, p99 = p50_p99(samples)
                worst = max(worst, p99)
                print(f"{username:28} {url:36} {rows:>5} {p50:>7.1f} {p99:>7.1f}")
        finally:
            do_revoke_api_token(actor=user, token=token)
    print(f"target: p99 under {TARGET_P99_MS} ms; worst p99 {worst:.1f} ms: "
          + ("met" if worst < TARGET_P99_MS else "NOT met"))


if __name__ == "__main__":
    main()
