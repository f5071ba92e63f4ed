"""Bytes each page transfers for a logged-in user: HTML + CSS + JS + data, as sent and gzipped.

Usage: .venv/bin/python bench/page_weight.py [--user nurse.imilchil] [--language fr]
Runs against the database of CARAVANE_DATA_DIR (or DATABASE_URL) and builds the demo network
there first if it is empty (`caravane demo`). Target: every page under 100 kB gzipped on first
load, so a tablet on a 256 kbit/s rural link shows it within about 3 seconds; the last column is
that time (gzipped bytes at 256 kbit/s, latency left out).

The network pages are read as ``--user``; the clinical pages as the demo's Imilchil nurse and GP
(queue board, a visit at the nurse's step with its vital signs form, a visit at the GP's step, the
patient's chart, the telemedicine request form, the act that visit sent) and as a specialist of the
hub the act went to (worklist, the act). What they need is taken from the demo's queue of today at
Imilchil, completed when missing (check-ins, vital signs, one tele-expertise request).
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
LINK_BITS_PER_SECOND = 256_000


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
        ("network dashboard", "/network/"),
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

    from caravane.accounts.models import User
    from caravane.geo.models import Commune

    call_command("migrate", interactive=False, verbosity=0)
    if not Commune.objects.exists():
        call_command("demo")
    client = Client()
    response = client.post("/accounts/login/", {"username": args.user, "password": args.password})
    if response.status_code != 302:
        raise SystemExit(f"login as {args.user} failed (HTTP {response.status_code})")
    client.post("/i18n/setlang/", {"language": args.language, "next": "/"})

    print(f"Page weight ({args.language}); bytes as sent / gzipped; first load (cold cache)")
    print(f"{'page':34} {'html':>15} {'css+js':>17} {'data':>17} {'total':>17}  {'html ms':>7}  {'256 kbit/s':>10}")
    over = []
    print(f"-- network pages, as {args.user}")
    for name, url in pages(client):
        over += measure(client, name, url)
    print("-- clinical pages")
    for name, username, url in clinical_pages():
        user, reader = User.objects.select_related("staff").get(username=username), Client()
        reader.force_login(user)
        reader.post("/i18n/setlang/", {"language": args.language, "next": "/"})
        over += measure(reader, f"{name} ({user.staff.role})", url)
    print(f"budget: {BUDGET_GZIP:,} bytes gzipped per page on first load; over budget: {', '.join(over) or 'none'}")
    print("css+js is cached by the browser after the first page; data are the map's JSON (sent gzipped by the app)")


def measure(client, name: str, url: str) -> list[str]:
    """Print one page's row; return ``[name]`` when it is over budget."""
    html_sent, html_gz, seconds = fetch(client, url)
    html = body(client.get(url)).decode()
    assets = sorted(set(ASSET.findall(html)))
    data = sorted({unescape(u) for u in DATA.findall(html) if "0000-0000" not in u})
    asset_sizes = [fetch(client, a)[:2] for a in assets]
    data_sizes = [fetch(client, d)[:2] for d in data]
    a_sent, a_gz = sum(s for s, _ in asset_sizes), sum(g for _, g in asset_sizes)
    d_sent, d_gz = sum(s for s, _ in data_sizes), sum(g for _, g in data_sizes)
    total_sent, total_gz = html_sent + a_sent + d_sent, html_gz + a_gz + d_gz
    print(f"{name:34} {html_sent:>7,}/{html_gz:>7,} {a_sent:>8,}/{a_gz:>8,} {d_sent:>8,}/{d_gz:>8,} "
          f"{total_sent:>8,}/{total_gz:>8,}  {seconds * 1000:>7.0f}  {total_gz * 8 / LINK_BITS_PER_SECOND:>8.1f} s")
    return [name] if total_gz > BUDGET_GZIP else []


def clinical_pages() -> list[tuple[str, str | None, str]]:
    """(page, username, URL) of the clinical pages, on today's queue at the demo GP's site (completed if need be)."""
    from django.utils import timezone

    from caravane.accounts.models import User
    from caravane.care import actions
    from caravane.care.models import Encounter
    from caravane.network.models import StaffMember
    from caravane.patients.models import Patient
    from caravane.patients.selectors import has_valid_consent
    from caravane.telemed.actions import do_request_act
    from caravane.telemed.models import ServiceRequest

    nurse, gp = User.objects.get(username="nurse.imilchil"), User.objects.get(username="gp.imilchil")
    site = gp.staff.assignments.order_by("-start_date").first().site
    today = timezone.localdate()
    queue = Encounter.objects.filter(site=site, service_date=today)

    def consenting(encounter):
        return has_valid_consent(encounter.patient, act="teleexpertise")

    def check_in(to: str) -> Encounter:
        busy = Encounter.objects.filter(service_date=today).exclude(status="done").values("patient_id")
        patient = next(p for p in Patient.objects.filter(registration_site=site, merged_into=None)
                       .exclude(pk__in=busy).order_by("record_number") if has_valid_consent(p, act="teleexpertise"))
        encounter = actions.do_check_in(actor=nurse, patient=patient, site=site, day=today)
        encounter = actions.do_advance(actor=nurse, encounter=encounter, to="with_nurse")
        if to == "with_gp":
            actions.do_record_vitals(actor=nurse, encounter=encounter, values={
                "systolic": 138, "diastolic": 86, "heart_rate": 78, "temperature": "37.0", "spo2": 97,
                "respiratory_rate": 16, "weight": 71, "height": 165})
            encounter = actions.do_advance(actor=nurse, encounter=encounter, to="with_gp")
        return encounter

    at_nurse = queue.filter(status="with_nurse").first() or check_in("with_nurse")
    act = ServiceRequest.objects.filter(encounter__in=queue.filter(status="with_gp")).first()
    if act is None:
        at_gp = next((e for e in queue.filter(status="with_gp").select_related("patient") if consenting(e)), None)
        act = do_request_act(actor=gp, encounter=at_gp or check_in("with_gp"), kind="teleexpertise",
                             specialty="cardiology", priority="routine",
                             question="Souffle systolique découvert à l'examen : avis sur l'ECG joint ?")
    at_gp = act.encounter
    specialist = (StaffMember.objects.filter(role="specialist", specialty_id=act.specialty_id, user__isnull=False,
                                             assignments__site_id=act.hub_id).select_related("user").first()
                  or bench_specialist(act))
    hub_reader = specialist.user.username
    return [
        ("queue board", nurse.username, "/care/queue/"),
        ("visit, vital signs form", nurse.username, f"/care/visits/{at_nurse.pk}/"),
        ("visit, consultation", gp.username, f"/care/visits/{at_gp.pk}/"),
        ("patient chart", gp.username, f"/care/patients/{at_gp.patient_id}/chart/"),
        ("telemed request form", gp.username, f"/telemed/visits/{at_gp.pk}/request/"),
        ("act detail", gp.username, f"/telemed/acts/{act.pk}/"),
        ("act detail", hub_reader, f"/telemed/acts/{act.pk}/"),
        ("worklist", hub_reader, f"/telemed/worklist/?hub={act.hub_id}&specialty={act.specialty_id}"),
    ]


def bench_specialist(act):
    """A specialist of the act's hub and specialty, for a hub the demo staffs with no account."""
    import datetime

    from caravane.accounts.models import User
    from caravane.network.models import Assignment, StaffMember

    user = User.objects.create_user(username=f"bench.specialist.{act.specialty_id}", password=None)
    staff = StaffMember.objects.create(user=user, first_name="Bench", last_name="Specialist", role="specialist",
                                       specialty_id=act.specialty_id, registration_number="BENCH-2")
    Assignment.objects.create(staff=staff, site_id=act.hub_id, start_date=datetime.date(2020, 1, 1))
    return staff


if __name__ == "__main__":
    main()
