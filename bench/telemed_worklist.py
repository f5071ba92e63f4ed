"""Telemedicine worklist latency with 100,000 acts: p50/p99 of a specialist's worklist read.

Usage: .venv/bin/python bench/telemed_worklist.py [--acts 100000] [--queries 500] [--http 300]
       [--only sqlite|postgres] [--database NAME] [--sqlite-dir DIR]
Builds (once) a network of 12 regional centres, a central platform, a national centre and 50 spokes, and
``--acts`` telemedicine acts spread over them (most of them long closed, as in a running programme), in its
own databases: SQLite under /tmp/caravane-telemed-bench and PostgreSQL database ``caravane_telemed_bench``
(DATABASE_URL's server, or postgres@127.0.0.1). Then it times ``telemed.selectors.worklist`` in-process for
specialists of random hubs, each read as a fresh request would (the user reloaded, the scope recomputed);
then ``--http`` reads of the same kind end to end through a production-mode server it starts (`caravane serve`,
one web process: this bench runs without REDIS_URL; first free port of 8151-8159): the worklist page with each
specialist's session cookie and the API worklist with their bearer token, authenticated, scoped and audited.
Target: p99 under 100 ms on PostgreSQL.
"""

from __future__ import annotations

import datetime
import random
import statistics
import time

from benchlib import (HttpClient, HttpServer, latency, main_per_database, percentile, session_cookie, setup_django,
                      timed_requests, verdict)

TARGET_P99_MS = 100
BENCH_DB = "caravane_telemed_bench"
SPECIALTIES = ["gyn-obstetrics", "paediatrics", "endocrinology", "dermatology", "ent", "cardiology", "pulmonology"]
REGIONAL_SPECIALTIES = ["gyn-obstetrics", "paediatrics", "cardiology"]
SPOKES = 50
PATIENTS = 5000
# Share of acts still open (waiting or in progress); the rest are reported, closed, declined, cancelled, expired.
OPEN_SHARE = 0.08


def build_network():
    """The bench network (idempotent): hubs with their specialists, spokes with their GP, patients with consent."""
    from caravane.accounts.models import User
    from caravane.geo.models import Commune, Province, Region
    from caravane.network.models import Assignment, Site, Specialty, StaffMember
    from caravane.patients.models import Consent, Patient

    if Site.objects.filter(code="bench-national").exists():
        return
    region = Region.objects.create(code="99", name_fr="Bench", name_ar="ب", population_2024=0)
    province = Province.objects.create(code="99.001", name_fr="Bench", name_ar="ب", kind="province", region=region,
                                       population_2024=0)
    commune = Commune.objects.create(code="99.001.01.01", code_digits="999999999", name_fr="Bench", name_ar="ب",
                                     kind="rural", province=province, region=region, population_2024=1,
                                     centroid_lat=31.5, centroid_lon=-7.5, geometry={}, geometry_source="code")
    specialties = {code: Specialty.objects.get_or_create(code=code, defaults={
        "name_fr": code, "name_ar": code, "name_en": code})[0] for code in SPECIALTIES}

    def site(code, kind, parent=None, offered=()):
        row = Site.objects.create(code=code, name=code, kind=kind, commune=commune, latitude=31.5, longitude=-7.5,
                                  parent=parent)
        row.specialties.set([specialties[c] for c in offered])
        return row

    def person(username, role, at, specialty=None):
        user = User.objects.create(username=username, password="!")
        staff = StaffMember.objects.create(user=user, first_name=username, last_name="Bench", role=role,
                                           specialty=specialty, registration_number="B1" if role in ("gp", "specialist")
                                           else "")
        Assignment.objects.create(staff=staff, site=at, start_date=datetime.date(2020, 1, 1))
        return staff

    national = site("bench-national", Site.Kind.NATIONAL_CENTRE, offered=SPECIALTIES)
    central = site("bench-central", Site.Kind.CENTRAL_PLATFORM, offered=SPECIALTIES)
    regionals = [site(f"bench-regional-{n}", Site.Kind.REGIONAL_CENTRE, national, REGIONAL_SPECIALTIES)
                 for n in range(12)]
    for hub in [national, central, *regionals]:
        for code in hub.specialties.values_list("code", flat=True):
            person(f"bench-{hub.code}-{code}", "specialist", hub, specialties[code])
    spokes = [site(f"bench-spoke-{n}", Site.Kind.RURAL_HEALTH_CENTRE, regionals[n % 12]) for n in range(SPOKES)]
    gps = [person(f"bench-gp-{n}", "gp", spoke) for n, spoke in enumerate(spokes)]
    patients = [Patient(record_number=f"B{n:08d}", given_name="Bench", family_name=f"P{n}", gender="female",
                        birth_date=datetime.date(1980, 1, 1), registration_site=spokes[n % SPOKES])
                for n in range(PATIENTS)]
    Patient.objects.bulk_create(patients, batch_size=2000)
    Consent.objects.bulk_create([Consent(patient=p, acts=["teleconsultation", "teleexpertise"], method="signed_paper",
                                         obtained_by=gps[n % SPOKES], obtained_at=datetime.datetime(
                                             2025, 1, 1, tzinfo=datetime.timezone.utc),
                                         site=spokes[n % SPOKES], period_start=datetime.date(2025, 1, 1))
                                 for n, p in enumerate(Patient.objects.filter(record_number__startswith="B"))],
                                batch_size=2000)


def build_acts(count: int) -> None:
    """Add acts until there are ``count`` of them (spread over a year, most of them over)."""
    from caravane.network.models import Site, StaffMember
    from caravane.patients.models import Consent
    from caravane.telemed.models import PRIORITY_RANK, ServiceRequest, Status

    missing = count - ServiceRequest.objects.count()
    if missing <= 0:
        return
    rng = random.Random(11)
    spokes = list(Site.objects.filter(code__startswith="bench-spoke-").select_related("parent"))
    central = Site.objects.get(code="bench-central")
    national = Site.objects.get(code="bench-national")
    regional_of = {spoke.pk: spoke.parent for spoke in spokes}
    gp_of = dict(StaffMember.objects.filter(role="gp", assignments__site__code__startswith="bench-spoke-")
                 .values_list("assignments__site_id", "pk"))
    consents = list(Consent.objects.values_list("pk", "patient_id", "site_id"))
    open_statuses = [Status.REQUESTED, Status.ACCEPTED, Status.SCHEDULED, Status.IN_PROGRESS, Status.ESCALATED]
    over_statuses = [Status.CLOSED] * 12 + [Status.REPORTED] * 3 + [Status.DECLINED, Status.CANCELLED, Status.EXPIRED]
    now = datetime.datetime.now(datetime.timezone.utc)
    batch = []
    for _ in range(missing):
        consent_id, patient_id, site_id = rng.choice(consents)
        specialty = rng.choice(SPECIALTIES)
        hub = regional_of[site_id] if specialty in REGIONAL_SPECIALTIES else central
        if rng.random() < 0.05:
            hub = national
        priority = rng.choices(["urgent", "priority", "routine"], weights=[1, 3, 6])[0]
        requested = now - datetime.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        status = rng.choice(open_statuses) if rng.random() < OPEN_SHARE else rng.choice(over_statuses)
        batch.append(ServiceRequest(
            kind=rng.choice(["teleconsultation", "teleexpertise"]), patient_id=patient_id, consent_id=consent_id,
            requesting_site_id=site_id, requester_id=gp_of[site_id], specialty_id=specialty, priority=priority,
            rank=PRIORITY_RANK[priority], question="Bench question", hub=hub, route=[], status=status,
            requested_at=requested, due_at=requested + datetime.timedelta(hours=4)))
        if len(batch) >= 5000:
            ServiceRequest.objects.bulk_create(batch)
            batch = []
    ServiceRequest.objects.bulk_create(batch)


def child(args) -> None:
    """Build and time against the database this process was started on."""
    setup_django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from caravane.accounts.models import User
    from caravane.network.models import StaffMember
    from caravane.telemed import selectors
    from caravane.telemed.models import OPEN_STATUSES, ServiceRequest

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with transaction.atomic():
        build_network()
        build_acts(args.acts)
    built = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE telemed_servicerequest")
    specialists = list(StaffMember.objects.filter(role="specialist", user__username__startswith="bench-")
                       .values_list("user_id", "assignments__site_id", "specialty_id"))
    rng = random.Random(5)
    total = ServiceRequest.objects.count()
    open_total = ServiceRequest.objects.filter(status__in=OPEN_STATUSES).count()
    print(f"{connection.vendor}: {total} acts ({open_total} open), {len(specialists)} worklists "
          f"(built in {built:.1f} s), {args.queries} reads")
    samples, sizes = [], []
    for n in range(args.queries + 20):
        user_id, hub_id, specialty = rng.choice(specialists)
        begun = time.perf_counter()
        user = User.objects.select_related("staff").get(pk=user_id)
        entries = selectors.worklist(user, hub=hub_id, specialty=specialty, limit=100)
        elapsed = (time.perf_counter() - begun) * 1000
        if n >= 20:  # the first reads warm caches
            samples.append(elapsed)
            sizes.append(len(entries))
    print(f"  worklist read   {latency(samples)}   "
          f"(entries per read: median {statistics.median(sizes):.0f}, max {max(sizes)})"
          + target(samples, connection.vendor))
    if args.http:
        over_http([rng.choice(specialists) for _ in range(args.http)], connection.vendor)


def target(samples: list[float], vendor: str) -> str:
    """The verdict on the target, on PostgreSQL where it is set."""
    return f"   {verdict(percentile(samples, 0.99), TARGET_P99_MS)}" if vendor == "postgresql" else ""


def over_http(reads: list[tuple], vendor: str) -> None:
    """Time ``reads`` (user id, hub id, specialty) through a real server: the page (session) and the API (token)."""
    from django.utils import timezone

    from caravane.accounts.actions import do_create_api_token
    from caravane.accounts.models import User

    users = User.objects.in_bulk({user_id for user_id, _hub, _specialty in reads})
    expiry = timezone.now() + datetime.timedelta(hours=2)
    with HttpServer() as server:
        pages = {pk: HttpClient(server.port, cookie=session_cookie(user)) for pk, user in users.items()}
        apis = {pk: HttpClient(server.port, token=do_create_api_token(user=user, name="worklist bench",
                                                                       expires_at=expiry)[1])
                for pk, user in users.items()}
        print(f"  through HTTP ({server.describe()}), {len(reads)} reads each, {len(users)} specialists:")
        samples = timed_requests([(pages[user], f"/telemed/worklist/?hub={hub}&specialty={specialty}")
                                  for user, hub, specialty in reads])
        print(f"  worklist page   {latency(samples)}{target(samples, vendor)}")
        samples = timed_requests([(apis[user], f"/api/telemed/worklist?hub={hub}&specialty={specialty}&limit=100")
                                  for user, hub, specialty in reads])
        print(f"  API worklist    {latency(samples)}{target(samples, vendor)}")


def main():
    main_per_database(__file__, __doc__, child, counts={"acts": 100_000, "queries": 500, "http": 300},
                      sqlite_dir="/tmp/caravane-telemed-bench", database=BENCH_DB,
                      drop_env=("DATABASE_URL", "REDIS_URL"))


if __name__ == "__main__":
    main()
