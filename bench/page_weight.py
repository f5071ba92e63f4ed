"""Bytes each page transfers for a logged-in user: HTML + CSS + JS + data, as sent and gzipped.

Usage: .venv/bin/python bench/page_weight.py [--user nurse.imilchil] [--language fr]
Runs against the database of CARAVANE_DATA_DIR (or DATABASE_URL) and builds the demo network
there first if it is empty (`caravane demo`). Target: every page under 100 kB gzipped on first
load, so a tablet on a 256 kbit/s rural link shows it within about 3 seconds.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import sys
import time
from html import unescape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caravane.settings")

from benchlib import share_secret_key  # noqa: E402

share_secret_key()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"')
DATA = re.compile(r'data-[a-z-]+-url="([^"]+)"')
BUDGET_GZIP = 100_000
DEMO_PASSWORD = "caravane-demo-2026"


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def fetch(client, url):
    """(bytes sent by the app, bytes once gzipped, seconds) for one URL."""
    started = time.perf_counter()
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    content = body(response)
    sent = len(content)
    if response.get("Content-Encoding") == "gzip":
        return sent, sent, elapsed
    return sent, len(gzip.compress(content, 6)), elapsed


def pages(client):
    from caravane.network.models import Site

    imilchil = Site.objects.filter(name__icontains="Imilchil").order_by("kind").first() or Site.objects.first()
    return [
        ("home", "/"),
        ("sites list", "/sites/"),
        ("sites list, filtered", "/sites/?kind=mobile_unit&region=08"),
        ("site page", f"/sites/{imilchil.pk}/"),
        ("site staff", f"/sites/{imilchil.pk}/staff/"),
        ("mobile units", "/mobile-units/"),
        ("sites map", "/sites/map/"),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="nurse.imilchil")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--language", default="fr", choices=["fr", "ar", "en"])
    args = parser.parse_args()

    from caravane.geo.models import Commune

    call_command("migrate", interactive=False, verbosity=0)
    if not Commune.objects.exists():
        call_command("demo")
    client = Client()
    response = client.post("/accounts/login/", {"username": args.user, "password": args.password})
    if response.status_code != 302:
        raise SystemExit(f"login as {args.user} failed (HTTP {response.status_code})")
    client.post("/i18n/setlang/", {"language": args.language, "next": "/"})

    print(f"Page weight for {args.user} ({args.language}); bytes as sent / gzipped; first load (cold cache)")
    print(f"{'page':24} {'html':>15} {'css+js':>17} {'data':>17} {'total':>17}  {'html ms':>7}")
    over = []
    for name, url in pages(client):
        html_sent, html_gz, seconds = fetch(client, url)
        html = body(client.get(url)).decode()
        assets = sorted(set(ASSET.findall(html)))
        data = sorted({unescape(u) for u in DATA.findall(html) if "0000-0000" not in u})
        asset_sizes = [fetch(client, a)[:2] for a in assets]
        data_sizes = [fetch(client, d)[:2] for d in data]
        a_sent, a_gz = sum(s for s, _ in asset_sizes), sum(g for _, g in asset_sizes)
        d_sent, d_gz = sum(s for s, _ in data_sizes), sum(g for _, g in data_sizes)
        total_sent, total_gz = html_sent + a_sent + d_sent, html_gz + a_gz + d_gz
        print(f"{name:24} {html_sent:>7,}/{html_gz:>7,} {a_sent:>8,}/{a_gz:>8,} {d_sent:>8,}/{d_gz:>8,} "
              f"{total_sent:>8,}/{total_gz:>8,}  {seconds * 1000:>7.0f}")
        if total_gz > BUDGET_GZIP:
            over.append(name)
    print(f"budget: {BUDGET_GZIP:,} bytes gzipped per page on first load; over budget: {', '.join(over) or 'none'}")
    print("css+js is cached by the browser after the first page; data are the map's JSON (sent gzipped by the app)")


if __name__ == "__main__":
    main()
