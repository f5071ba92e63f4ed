"""``serving.py clinical-day``: the demo network at scale, its simulated users, and the run behind nginx."""

from __future__ import annotations

import datetime
import json
import os
import random
import subprocess
import sys

from benchlib import ROOT, postgres_url
from loadkit import BENCH, OUT, ConnectionSampler, bench_python, pool_ceiling, require_free

DEMO_PASSWORD = "caravane-demo-2026"
SPECIALTY = "cardiology"
# Shares of the simulated users: mobile units' tablets (API, token), nurses, GPs and specialists in browsers.
MIX = (("tablet", 0.30), ("nurse", 0.35), ("gp", 0.25), ("specialist", 0.10))
TARGET_P99_MS = 300


def prepare_day(args) -> None:
    """Build the demo and the extra patients, give staff logins, print the simulated users as JSON."""
    from benchlib import setup_django

    setup_django()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from caravane.accounts.actions import do_create_api_token
    from caravane.accounts.models import User
    from caravane.core.access import Perm
    from caravane.network.models import Site, StaffMember
    from caravane.patients.actions import do_record_consent
    from caravane.patients.models import Patient
    from patient_search import build

    with open(os.devnull, "w") as quiet:
        call_command("demo", stdout=quiet)
    care_sites = list(Site.objects.filter(kind__in=["mobile_unit", "rural_health_centre"]).order_by("code"))
    build(args.patients, at=care_sites)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # Logins for the staff the demo left without one (bench fixtures, like the bulk-created patients);
    # one password hash for all, since hashing is what login measures, not what set-up should spend.
    password = make_password(DEMO_PASSWORD)
    for staff in StaffMember.objects.filter(user=None, role__in=["nurse", "gp", "specialist"]):
        staff.user = User.objects.create(username=f"bench.{staff.role}.{staff.pk.hex[:10]}", password=password)
        staff.save(update_fields=["user"])
    # Clinic staff where the patients are; specialists at their hubs.
    staff_by_role = {role: list(StaffMember.objects.filter(role=role, assignments__site__in=care_sites)
                                .select_related("user").distinct().order_by("pk")) for role in ("nurse", "gp")}
    staff_by_role["specialist"] = list(StaffMember.objects.filter(role="specialist").select_related("user")
                                       .order_by("pk"))
    staff_by_role["specialist"] = [s for s in staff_by_role["specialist"] if s.specialty_id == SPECIALTY] or \
        staff_by_role["specialist"]
    unit_nurses = [s for s in staff_by_role["nurse"] if any(
        a.site.kind == "mobile_unit" for a in s.assignments.select_related("site"))]
    pools = {"tablet": unit_nurses, "nurse": [s for s in staff_by_role["nurse"] if s not in unit_nurses[:60]],
             "gp": staff_by_role["gp"], "specialist": staff_by_role["specialist"]}
    rng = random.Random(9)
    users, cache = [], {}
    for role, share in MIX:
        for n in range(max(1, round(args.users * share))):
            staff = pools[role][n % len(pools[role])]
            users.append(simulated_user(role, staff, cache, rng, do_create_api_token, do_record_consent,
                                        Patient, Perm, Site))
    print(json.dumps({"users": users[:args.users], "specialty": SPECIALTY}))


def simulated_user(role, staff, cache, rng, do_create_api_token, do_record_consent, Patient, Perm, Site) -> dict:
    """What one simulated user needs: credentials, site, patients of their scope and search words."""
    user = staff.user
    entry = {"role": role, "username": user.username, "password": DEMO_PASSWORD}
    if role == "specialist":
        hub = staff.assignments.first().site
        entry.update(hub=str(hub.pk))
        return entry
    if user.pk not in cache:
        site = staff.assignments.select_related("site").first().site
        visible = Patient.objects.restrict(user, Perm.VIEW_PATIENT).filter(registration_site=site)
        sample = list(visible.order_by("?").values_list("pk", "family_name", "given_name")[:300])
        cache[user.pk] = {"site": str(site.pk), "patients": [str(pk) for pk, _f, _g in sample],
                          "words": sorted({f or g for _pk, f, g in sample if f or g})[:50]}
    entry.update(cache[user.pk])
    # Patients this user checks in: their own, never in today's queue, so two users never check in the same one
    # (a second check-in the same day is refused, rightly).
    site_pk = entry["site"]
    taken = cache.setdefault(("taken", site_pk), set())
    fresh = (Patient.objects.restrict(user, Perm.VIEW_PATIENT).filter(registration_site_id=site_pk)
             .exclude(encounters__service_date__gte=datetime.date.today() - datetime.timedelta(days=1))
             .exclude(pk__in=taken).order_by("?").values_list("pk", flat=True)[:60])
    entry["arrivals"] = [str(pk) for pk in fresh]
    taken.update(fresh)
    entry["consented"] = []
    if role == "gp":
        # Requests need the patient's consent to the act: the GP's arrivals consent at the desk first.
        for pk in entry["arrivals"]:
            do_record_consent(actor=user, patient=Patient.objects.get(pk=pk), acts=["teleconsultation", "teleexpertise"],
                              method="oral", witness_name="Bench witness", period_start=datetime.date.today(),
                              site=Site.objects.get(pk=site_pk))
    if role == "tablet":
        entry["token"] = do_create_api_token(user=user, name="clinical-day bench")[1]
    return entry


def clinical_day(args) -> int:
    """Serve Caravane behind nginx on PostgreSQL and Redis, run the day and the ramp, print the figures."""
    from serving import run_child

    tools = bench_python()
    database = args.database or "caravane_serving_day"
    database_url = postgres_url(database)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    app_port, proxy_port = args.port_base + 2, args.port_base + 3
    require_free(app_port, proxy_port, proxy_port + 1)
    print(f"Preparing the demo network and {args.patients} patients in PostgreSQL database {database}...", flush=True)
    prepared = run_child("prepare-day", args, database_url)
    (OUT / "clinical_users.json").write_text(json.dumps(prepared))
    # The reference deployment of docs/deployment.md on this machine: nginx (TLS, static files) in front of
    # `caravane serve` in production mode with its task worker, as deploy/local-up.sh brings it up.
    deployment = OUT / "deployment"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "PYTHON": sys.executable}
    if args.workers:
        env["CARAVANE_WEB_WORKERS"] = str(args.workers)
    started = subprocess.run(["bash", str(ROOT / "deploy" / "local-up.sh"), "--port", str(proxy_port),
                              "--http-port", str(proxy_port + 1), "--app-port", str(app_port), "--dir", str(deployment)],
                             env=env, capture_output=True, text=True)
    if started.returncode != 0:
        raise SystemExit(f"deploy/local-up.sh failed:\n{started.stdout}{started.stderr}")
    url = [line for line in started.stdout.splitlines() if line.startswith("URL=")][-1][4:]
    roles = {}
    for user in prepared["users"]:
        roles[user["role"]] = roles.get(user["role"], 0) + 1
    print(f"Caravane: the reference deployment (deploy/local-up.sh: nginx with TLS, caravane serve with "
          f"{args.workers} web processes and 1 task worker) at {url}, PostgreSQL {database}, Redis {redis_url}")
    print(f"{len(prepared['users'])} simulated users: " + ", ".join(f"{v} {k}" for k, v in roles.items()))
    sampler = ConnectionSampler(database_url.rsplit("/", 1)[0], database)
    with sampler:
        result = subprocess.run([tools, str(BENCH / "clinical_day.py"), "--host", url,
                                 "--users-file", str(OUT / "clinical_users.json"), "--duration", str(args.duration),
                                 "--step", str(args.step), "--max-rate", str(args.max_rate),
                                 "--target-ms", str(TARGET_P99_MS)], cwd=BENCH)
    subprocess.run(["bash", str(ROOT / "deploy" / "local-up.sh"), "--down", str(deployment)], env=env)
    print(f"PostgreSQL connections to {database} during the run: peak {sampler.peak}, "
          f"{pool_ceiling(args.workers, 1)}, max_connections {sampler.max_connections()} (server-wide)")
    return result.returncode
