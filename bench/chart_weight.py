"""Bytes the patient chart transfers: HTML (with its inline SVG trend charts) + CSS + JS, as sent and gzipped.

Usage: .venv/bin/python bench/chart_weight.py [--visits 12] [--language fr] [--requests 100]
Runs against the database of CARAVANE_DATA_DIR (or DATABASE_URL), building the demo network there first
if it is empty, then a bench patient followed for ``--visits`` closed visits (full vital signs, a diagnosis,
two prescriptions each) by a bench GP. Target: under 100 kB gzipped on first load, like every page.
Then it times ``--requests`` chart reads by the GP (p50/p99): in-process through Django's handler, and end to
end through HTTP with the GP's session cookie, served by a production-mode server it starts (`caravane
serve`, two web processes with REDIS_URL, one without, first free port of 8151-8159); every read is
authenticated, scoped and audited. Target: p99 under 300 ms (the clinical-day target of issue 9).
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from page_weight import ASSET, BUDGET_GZIP, body, fetch  # noqa: E402  (sets Django up)

from benchlib import HttpClient, HttpServer, latency, percentile, session_cookie, verdict  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

BENCH_GP = "bench.chart.gp"
TARGET_P99_MS = 300
PASSWORD = "caravane-bench-2026"


def bench_patient(visits: int):
    """The bench patient with ``visits`` closed visits (made once, then reused)."""
    from caravane.accounts.models import User
    from caravane.care import actions
    from caravane.core.models import new_uuid7
    from caravane.network.models import Assignment, Site, StaffMember
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    site = Site.objects.filter(kind=Site.Kind.RURAL_HEALTH_CENTRE).order_by("code").first()
    user = User.objects.filter(username=BENCH_GP).first()
    if user is None:
        user = User.objects.create_user(username=BENCH_GP, password=PASSWORD)
        staff = StaffMember.objects.create(user=user, first_name="Bench", last_name="GP", role="gp",
                                           registration_number="BENCH-1")
        Assignment.objects.create(staff=staff, site=site, start_date=datetime.date(2020, 1, 1))
    pk = new_uuid7()
    patient, created = Patient.objects.get_or_create(
        given_name="Bench", family_name=f"Chart{visits}", registration_site=site,
        defaults={"pk": pk, "record_number": record_number_for(pk), "gender": "female",
                  "birth_date": datetime.date(1970, 1, 1)})
    if created:
        start = datetime.date.today() - datetime.timedelta(days=30 * visits)
        for n in range(visits):
            day = start + datetime.timedelta(days=30 * n)
            encounter = actions.do_check_in(actor=user, patient=patient, site=site, day=day)
            encounter = actions.do_advance(actor=user, encounter=encounter, to="with_nurse")
            actions.do_record_vitals(actor=user, encounter=encounter, values={
                "systolic": 150 - n, "diastolic": 92 - n // 2, "heart_rate": 80 + n % 5, "temperature": "36.8",
                "spo2": 97, "respiratory_rate": 16, "weight": 82 - n * 0.4, "height": 160, "glucose": 130 - n})
            encounter = actions.do_advance(actor=user, encounter=encounter, to="with_gp")
            actions.do_save_note(actor=user, encounter=encounter, reason="Hypertension follow-up",
                                 history="Known hypertension, type 2 diabetes.", examination="No oedema.",
                                 assessment="Blood pressure improving.", plan="Same treatment, review in a month.")
            actions.do_add_diagnosis(actor=user, encounter=encounter, icd10_code="I10")
            for medication in ("Amlodipine 5 mg", "Metformin 850 mg"):
                actions.do_prescribe(actor=user, encounter=encounter, medication=medication, dose="1 tablet",
                                     route="oral", frequency="twice daily", duration_days=30)
            actions.do_close_visit(actor=user, encounter=encounter)
    return patient


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=12)
    parser.add_argument("--language", default="fr", choices=["fr", "ar", "en"])
    parser.add_argument("--requests", type=int, default=100, help="chart reads timed in-process and over HTTP")
    args = parser.parse_args()

    from caravane.geo.models import Commune

    call_command("migrate", interactive=False, verbosity=0)
    if not Commune.objects.exists():
        call_command("demo")
    patient = bench_patient(args.visits)
    client = Client()
    if client.post("/accounts/login/", {"username": BENCH_GP, "password": PASSWORD}).status_code != 302:
        raise SystemExit(f"login as {BENCH_GP} failed")
    client.post("/i18n/setlang/", {"language": args.language, "next": "/"})

    url = f"/care/patients/{patient.pk}/chart/"
    html_sent, html_gz, seconds = fetch(client, url)
    html = body(client.get(url)).decode()
    svg_bytes = sum(len(svg) for svg in re.findall(r"<svg.*?</svg>", html, re.S))
    assets = sorted(set(ASSET.findall(html)))
    print(f"Patient chart, {args.visits} visits ({args.language}); bytes as sent / gzipped; first load (cold cache)")
    print(f"{'html':34} {html_sent:>8,} / {html_gz:>7,}   ({svg_bytes:,} bytes of inline SVG trends; "
          f"rendered in {seconds * 1000:.0f} ms)")
    total_sent, total_gz = html_sent, html_gz
    for asset in assets:
        sent, gz, _ = fetch(client, asset)
        total_sent, total_gz = total_sent + sent, total_gz + gz
        print(f"{asset:34} {sent:>8,} / {gz:>7,}")
    print(f"{'total':34} {total_sent:>8,} / {total_gz:>7,}   budget {BUDGET_GZIP:,} gzipped: "
          f"{'within' if total_gz <= BUDGET_GZIP else 'OVER'}")
    if args.requests:
        time_reads(client, url, args.requests, args.language)


def time_reads(client, url: str, count: int, language: str) -> None:
    """p50/p99 of ``count`` chart reads in-process (``client``, logged in) and through a real server."""
    from django.conf import settings

    from caravane.accounts.models import User

    samples = []
    for n in range(count + 5):
        started = time.perf_counter()
        if client.get(url, HTTP_ACCEPT_ENCODING="gzip").status_code != 200:
            raise SystemExit(f"{url}: chart not readable in-process")
        if n >= 5:
            samples.append((time.perf_counter() - started) * 1000)
    print(f"chart read, in-process   {latency(samples)}   {verdict(percentile(samples, 0.99), TARGET_P99_MS)}")
    with HttpServer() as server:
        cookie = f"{session_cookie(User.objects.get(username=BENCH_GP))}; {settings.LANGUAGE_COOKIE_NAME}={language}"
        http = HttpClient(server.port, cookie=cookie)
        samples = http.timed([url] * count, warm=5)
        print(f"chart read, HTTP         {latency(samples)}   {verdict(percentile(samples, 0.99), TARGET_P99_MS)}"
              f"   ({server.describe()})")


if __name__ == "__main__":
    main()
