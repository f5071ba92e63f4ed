"""The medicines' ledger at scale on PostgreSQL: lot balance and site stock reads with 1,000,000 ledger rows, and
50 concurrent dispensings of one lot.

Usage: .venv/bin/python bench/pharmacy_ledger.py [--rows 1000000] [--http 300] [--database NAME]
Builds (once) in its own PostgreSQL database (``caravane_pharmacy_bench`` on DATABASE_URL's server, or
postgres@127.0.0.1) 50 sites holding 20 lots each and ``--rows`` ledger lines over three years (a receipt, then
dispensings, per site and lot), with the lots' balances equal to the ledger's sums. Then it starts a
production-mode server (`caravane serve`, two web processes with REDIS_URL, one without; first free port of
18500-18509) and times, as a site's nurse, ``--http`` reads each: the API balance of a lot (bearer token), the
API stock of the site and the stock page (session cookie), authenticated, scoped and audited. Target: p99 under
20 ms. Last, 50 clients POST a dispensing of the same lot at once, twice: with 30 units on hand (30 must
succeed, 20 be refused, the balance end at 0) and with 50 (all succeed); it checks the balance against the
ledger and prints the throughput.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import subprocess
import sys
import threading
import time

from benchlib import (HttpClient, HttpServer, latency, percentile, postgres_url, session_cookie, setup_django,
                      timed_requests, verdict)

TARGET_P99_MS = 20
BENCH_DB = "caravane_pharmacy_bench"
SITES, LOTS = 50, 20
PORTS = range(18500, 18510)
RACERS = 50


def build(rows: int) -> None:
    """The bench network, catalogue and ledger (idempotent: built once per database)."""
    from django.db import connection, transaction

    from caravane.accounts.models import User
    from caravane.geo.models import Commune, Province, Region
    from caravane.network.models import Assignment, Site, StaffMember
    from caravane.pharmacy.models import Lot, Medicine, Product, StockMovement

    if StockMovement.objects.count() >= rows:
        return
    with transaction.atomic():
        region, _ = Region.objects.get_or_create(code="97", defaults={"name_fr": "Bench", "name_ar": "ب",
                                                                      "population_2024": 0})
        province, _ = Province.objects.get_or_create(code="97.001", defaults={
            "name_fr": "Bench", "name_ar": "ب", "kind": "province", "region": region, "population_2024": 0})
        commune, _ = Commune.objects.get_or_create(code="97.001.01.01", defaults={
            "code_digits": "970010101", "name_fr": "Bench", "name_ar": "ب", "kind": "rural", "province": province,
            "region": region, "population_2024": 1, "centroid_lat": 31.5, "centroid_lon": -7.5,
            "geometry": {"type": "Point", "coordinates": [-7.5, 31.5]}, "geometry_source": "code"})
        sites = []
        for n in range(SITES):
            site, _ = Site.objects.get_or_create(code=f"bench-site-{n:02d}", defaults={
                "name": f"Bench {n:02d}", "kind": "rural_health_centre", "commune": commune, "latitude": 31.5,
                "longitude": -7.5})
            user, _ = User.objects.get_or_create(username=f"bench-nurse-{n:02d}")
            staff, created = StaffMember.objects.get_or_create(user=user, defaults={
                "first_name": "Bench", "last_name": f"{n:02d}", "role": "nurse"})
            if created:
                Assignment.objects.create(staff=staff, site=site, start_date=datetime.date(2020, 1, 1))
            sites.append((site, staff))
        products = []
        for n in range(LOTS):
            medicine, _ = Medicine.objects.get_or_create(code=f"bench-{n}", defaults={
                "inn": f"benchmedicine {n}", "source": "national"})
            product, _ = Product.objects.get_or_create(code=f"bench-{n}", defaults={
                "medicine": medicine, "form": "tablet", "strength": "500 mg", "unit": "tablet",
                "dose_unit": "tablet", "dose_per_unit": 1})
            lot, _ = Lot.objects.get_or_create(product=product, batch_number=f"BENCH-{n}",
                                               defaults={"expiry_date": datetime.date(2099, 1, 1)})
            products.append((product, lot))
        pairs = SITES * LOTS
        per_pair = rows // pairs
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE bench_pairs (p int, site uuid, staff uuid, product uuid, lot uuid)")
            cursor.executemany("INSERT INTO bench_pairs VALUES (%s, %s, %s, %s, %s)", [
                (s * LOTS + l, site.pk, staff.pk, product.pk, lot.pk)
                for s, (site, staff) in enumerate(sites) for l, (product, lot) in enumerate(products)])
            # Per site and lot: a receipt, then one dispensing after another, over three years, newest now.
            cursor.execute("""
                INSERT INTO pharmacy_stockmovement (id, created_at, updated_at, site_id, product_id, lot_id, kind,
                    quantity, balance_after, occurred_at, recorded_by_id, reason)
                SELECT gen_random_uuid(), now(), now(), bp.site, bp.product, bp.lot,
                       CASE WHEN k = 0 THEN 'receipt' ELSE 'dispense' END,
                       CASE WHEN k = 0 THEN %(stock)s ELSE -1 END,
                       %(stock)s - k, now() - (%(last)s - k) * interval '26 hours', bp.staff, ''
                FROM bench_pairs bp CROSS JOIN generate_series(0, %(last)s) AS k
            """, {"stock": per_pair * 2, "last": per_pair - 1})
            cursor.execute("""
                INSERT INTO pharmacy_lotbalance (site_id, lot_id, product_id, quantity, updated_at)
                SELECT site_id, lot_id, product_id, SUM(quantity), now() FROM pharmacy_stockmovement
                WHERE site_id IN (SELECT site FROM bench_pairs) GROUP BY site_id, lot_id, product_id
                ON CONFLICT (site_id, lot_id) DO NOTHING
            """)
            cursor.execute("DROP TABLE bench_pairs")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE pharmacy_stockmovement")
        cursor.execute("VACUUM ANALYZE pharmacy_lotbalance")


def racing_prescription(site, staff, patient_name: str):
    """A visit at ``site`` with a prescription line long enough for every racer."""
    from django.utils import timezone

    from caravane.care.models import Encounter, MedicationRequest
    from caravane.patients.models import Patient

    patient = Patient.objects.create(given_name=patient_name, family_name="Bench", gender="female",
                                     registration_site=site, coverage_type="ramed", coverage_number="RAMED-B",
                                     coverage_valid_from=datetime.date(2020, 1, 1),
                                     coverage_valid_until=datetime.date(2099, 1, 1))
    encounter = Encounter.objects.create(patient=patient, site=site, service_date=timezone.localdate(),
                                         checked_in_at=timezone.now(), checked_in_by=staff, status="with_gp")
    return MedicationRequest.objects.create(encounter=encounter, patient=patient, recorder=staff,
                                            medication="benchmedicine 0", dose_value=1, dose_unit="tablet",
                                            timing="1/d", duration_days=365)


def post(port: int, token: str, path: str, body: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", path, body=json.dumps(body), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "X-Forwarded-Proto": "https",
        "Host": "127.0.0.1"})
    status = connection.getresponse().status
    connection.close()
    return status


def race(port: int, token: str, site, staff, on_hand: int, round_name: str) -> None:
    """50 clients dispensing one unit of the same fresh lot at once; checks the balance against the ledger."""
    from django.db.models import Sum

    from caravane.pharmacy.actions import do_receive_delivery
    from caravane.pharmacy.models import LotBalance, Lot, Product, StockMovement

    product = Product.objects.get(code="bench-0")
    batch = f"RACE-{round_name}-{time.time_ns()}"
    do_receive_delivery(actor=staff.user, site=site, note_number=batch[:40], supplier="bench", lines=[
        {"product": product, "batch_number": batch[:40], "expiry_date": datetime.date(2099, 1, 1),
         "quantity": on_hand}])
    lot = Lot.objects.get(batch_number=batch[:40].upper())
    prescription = racing_prescription(site, staff, round_name)
    body = {"prescription": str(prescription.pk), "product": str(product.pk), "quantity": 1, "lot": str(lot.pk)}
    start, statuses = threading.Barrier(RACERS), []

    def racer():
        start.wait()
        statuses.append(post(port, token, f"/api/pharmacy/sites/{site.pk}/dispenses", body))

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    balance = LotBalance.objects.get(site=site, lot=lot).quantity
    ledger = StockMovement.objects.filter(site=site, lot=lot).aggregate(n=Sum("quantity"))["n"]
    dispensed = StockMovement.objects.filter(site=site, lot=lot, kind="dispense").count()
    ok, refused = statuses.count(201), statuses.count(400)
    sound = balance == ledger == on_hand - ok and dispensed == ok and balance >= 0 and ok == min(on_hand, RACERS)
    print(f"  {RACERS} concurrent dispensings, {on_hand} on hand: {ok} dispensed, {refused} refused, "
          f"{len(statuses) - ok - refused} other; balance {balance}, ledger sum {ledger}, dispensing lines "
          f"{dispensed}: {'consistent' if sound else 'INCONSISTENT'}; {RACERS / elapsed:.0f} requests/s "
          f"({elapsed * 1000:.0f} ms in all)")


def in_process(nurses, lots, reads: int = 300) -> None:
    """The two reads' database work alone (no HTTP, no authentication), to tell it from the serving's."""
    from caravane.pharmacy import selectors

    sites = [nurse.assignments.all()[0].site for nurse in nurses]
    for label, read in (("lot balance (query)", lambda i: selectors.lot_balance(sites[i % len(sites)],
                                                                                 lots[(i * 7) % len(lots)])),
                        ("site stock (queries)", lambda i: selectors.site_stock(sites[i % len(sites)]))):
        samples = []
        for i in range(reads + 10):
            begun = time.perf_counter()
            read(i)
            if i >= 10:
                samples.append((time.perf_counter() - begun) * 1000)
        print(f"  in process, {label:21} {latency(samples)}")


def child(args) -> None:
    setup_django(temporary_data=True)
    from django.core.management import call_command
    from django.utils import timezone

    from caravane.accounts.actions import do_create_api_token
    from caravane.network.models import StaffMember
    from caravane.pharmacy.models import Lot, StockMovement

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build(args.rows)
    print(f"postgresql: {StockMovement.objects.count():,} ledger rows, {SITES} sites × {LOTS} lots "
          f"(ready in {time.perf_counter() - started:.1f} s)")
    nurses = list(StaffMember.objects.filter(user__username__startswith="bench-nurse-")
                  .select_related("user").prefetch_related("assignments__site"))
    lots = list(Lot.objects.filter(batch_number__startswith="BENCH-"))
    in_process(nurses, lots)
    expiry = timezone.now() + datetime.timedelta(hours=2)
    with HttpServer(ports=PORTS) as server:
        print(f"  through HTTP ({server.describe()}), {args.http} reads each:")
        tokens = {n.pk: do_create_api_token(user=n.user, name="bench", expires_at=expiry)[1] for n in nurses}
        apis = {n.pk: HttpClient(server.port, token=tokens[n.pk]) for n in nurses}
        pages = {n.pk: HttpClient(server.port, cookie=session_cookie(n.user)) for n in nurses}
        reads = [(nurses[i % len(nurses)], lots[(i * 7) % len(lots)]) for i in range(args.http)]
        for label, requests in (
            ("lot balance (API)", [(apis[n.pk], f"/api/pharmacy/sites/{n.assignments.all()[0].site_id}/lots/{lot.pk}")
                                   for n, lot in reads]),
            ("site stock (API) ", [(apis[n.pk], f"/api/pharmacy/sites/{n.assignments.all()[0].site_id}/stock")
                                   for n, _lot in reads]),
            ("site stock page  ", [(pages[n.pk], f"/pharmacy/sites/{n.assignments.all()[0].site_id}/")
                                   for n, _lot in reads]),
        ):
            samples = timed_requests(requests)
            print(f"  {label} {latency(samples)}   {verdict(percentile(samples, 0.99), TARGET_P99_MS)}")
        racer = nurses[0]
        site = racer.assignments.all()[0].site
        race(server.port, tokens[racer.pk], site, racer, 30, "short")
        race(server.port, tokens[racer.pk], site, racer, RACERS, "enough")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--http", type=int, default=300)
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    env = {**os.environ, "DATABASE_URL": postgres_url(args.database)}
    sys.exit(subprocess.run([sys.executable, __file__, "--child", "--rows", str(args.rows), "--http",
                             str(args.http)], env=env).returncode)


if __name__ == "__main__":
    main()
