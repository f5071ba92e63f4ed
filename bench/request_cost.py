"""Where a hot request's time goes: queries, the audit write, and the rest (middleware, view, serialisation).

Usage: .venv/bin/python bench/request_cost.py [--requests 100] [--only sqlite|postgres]
Runs once on SQLite (a temporary data folder) and once on PostgreSQL (database ``caravane_bench_cost`` on
DATABASE_URL's server), each built with the demo network and one telemedicine act. Each request goes through
Django's whole stack in-process (middleware, session or bearer-token authentication, the gate, the audit row),
so the figures leave out the network and the server; bench/serving.py measures through HTTP under load.
Printed per request: the median time, the number of queries, and how the median request's time divides into
SQL outside the audit write, the audit write (its transaction, chain link included) and everything else.
"""

from __future__ import annotations

import datetime
import statistics
import tempfile
import time

from benchlib import main_per_database, setup_django


def child(args) -> None:
    """Build the demo if needed, then time each hot request."""
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import caravane.audit.gate as gate
    from caravane.accounts.actions import do_create_api_token
    from caravane.accounts.models import User
    from caravane.care.models import Encounter
    from caravane.geo.models import Commune
    from caravane.patients.actions import do_record_consent
    from caravane.telemed.actions import do_request_act
    from caravane.telemed.models import ServiceRequest

    call_command("migrate", interactive=False, verbosity=0)
    if not Commune.objects.exists():
        call_command("demo", stdout=open("/dev/null", "w"))
    gp = User.objects.get(username="gp.imilchil")
    encounter = Encounter.objects.filter(site__assignments__staff__user=gp).order_by("-pk").first()
    patient = encounter.patient
    act = ServiceRequest.objects.filter(requesting_site=encounter.site).first()
    if act is None:
        do_record_consent(actor=gp, patient=patient, acts=["teleconsultation"], method="signed_paper",
                          period_start=datetime.date.today() - datetime.timedelta(days=1), site=encounter.site)
        act = do_request_act(actor=gp, encounter=encounter, kind="teleconsultation", specialty="cardiology",
                             priority="routine", question="Blood pressure under two drugs: what next?")
    _, token = do_create_api_token(user=User.objects.get(username="nurse.imilchil"), name=f"bench {time.time()}")
    bearer = {"Authorization": f"Bearer {token}"}
    requests = [
        ("API patient read (token)", None, f"/api/patients/{patient.pk}"),
        ("API patient search (token)", None, "/api/patients/?q=a"),
        ("API visit read (token)", None, f"/api/care/encounters/{encounter.pk}"),
        ("API visits of the site (token)", None, "/api/care/encounters"),
        ("queue board page", "nurse.imilchil", "/care/queue/"),
        ("visit page", "nurse.imilchil", f"/care/visits/{encounter.pk}/"),
        ("chart page", "gp.imilchil", f"/care/patients/{patient.pk}/chart/"),
        ("patient page", "nurse.imilchil", f"/patients/{patient.pk}/"),
        ("act page", "gp.imilchil", f"/telemed/acts/{act.pk}/"),
        ("request form", "gp.imilchil", f"/telemed/visits/{encounter.pk}/request/"),
        ("liveness probe", None, "/healthz"),
    ]

    timings = {"sql": 0.0, "audit": 0.0}
    in_audit = [False]

    def timed_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if not in_audit[0]:
                timings["sql"] += time.perf_counter() - started

    original_record = gate.do_record_audit

    def timed_record(**kwargs):
        started, in_audit[0] = time.perf_counter(), True
        try:
            return original_record(**kwargs)
        finally:
            in_audit[0] = False
            timings["audit"] += time.perf_counter() - started

    gate.do_record_audit = timed_record
    print(f"\nRequest cost on the demo network ({connection.vendor}), {args.requests} requests each, in ms")
    print(f"{'request':32} {'p50':>6} {'queries':>8} {'SQL':>6} {'audit':>6} {'rest':>6}")
    with connection.execute_wrapper(timed_sql):
        for label, username, url in requests:
            client = Client()
            headers = bearer if username is None and url.startswith("/api/") else {}
            if username:
                client.force_login(User.objects.get(username=username))
            samples = []
            for attempt in range(args.requests + 3):
                timings.update(sql=0.0, audit=0.0)
                started = time.perf_counter()
                response = client.get(url, headers=headers)
                total = time.perf_counter() - started
                if response.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {response.status_code}")
                if attempt >= 3:  # the first calls warm caches
                    samples.append((total, timings["sql"], timings["audit"]))
            with CaptureQueriesContext(connection) as captured:
                client.get(url, headers=headers)
            median = sorted(samples)[len(samples) // 2]
            total, sql, audit = (value * 1000 for value in median)
            print(f"{label:32} {statistics.median(s[0] for s in samples) * 1000:6.2f} "
                  f"{len(captured.captured_queries):8d} {sql:6.2f} {audit:6.2f} {total - sql - audit:6.2f}")


if __name__ == "__main__":
    main_per_database(__file__, __doc__, child, counts={"requests": 100},
                      sqlite_dir=tempfile.mkdtemp(prefix="caravane-bench-cost-"), database="caravane_bench_cost")
