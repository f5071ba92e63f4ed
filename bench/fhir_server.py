"""The FHIR server under load, beside the fhirstarter reference server, in one run; and name search at scale.

Usage (from the repository root, with the project's Python; PostgreSQL from DATABASE_URL's server, or
postgres@127.0.0.1:5432):

  .venv/bin/python bench/fhir_server.py [--patients 200000] [--levels 1,10] [--duration 10] [--port-base 18610]

One PostgreSQL database (``--database``, default wt_fhir_bench) holds N synthetic patients at 50 sites; the
patients of one site have a visit each with weight and blood pressure. A nurse of that site (bearer token: scope,
gate, one audit row per request) and an administrator (national scope) read through ``caravane serve`` with ONE
web process:

- ``GET /fhir/R4/Patient/{id}`` against fhirstarter 4.2.0's ``GET /Patient/{id}`` (one uvicorn process,
  in-memory provider, the same patients: bench/fhir_reference.py);
- ``GET /fhir/R4/Observation?patient={id}&code=29463-7`` against fhirstarter's Observation search (in-memory
  lists of the same observations);
- ``GET /fhir/R4/Patient?name={given family}`` at N patients, by the nurse (her site) and the administrator
  (national): target p99 < 50 ms on PostgreSQL.

Each Caravane interaction is measured twice: as served (the read lane, caravane.core.lane) and as Django's full
request cycle serves it (the same request with a cookie, which the lane hands over).

Closed loop, same generator (bench/loadgen.py, in the bench's own venv bench/out/venv), levels in turn.
Prints req/s, p50/p99 and errors per peer. The machine may be shared: say so when reporting figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from urllib.parse import quote

from benchlib import ROOT, postgres_url
from loadkit import BENCH, OUT, Processes, bench_python, require_free, serve_command

DEFAULT_DATABASE = "wt_fhir_bench"
WEIGHT = "29463-7"
SAMPLE = 2000  # ids and names the generator draws from


def prepare(args) -> None:
    """Build patients, visits with vital signs, the nurse and the administrator with tokens; print the run's JSON."""
    from benchlib import setup_django

    setup_django()
    import datetime
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection, transaction

    from caravane.accounts.actions import do_create_api_token
    from caravane.accounts.models import User
    from caravane.care.models import Encounter, Observation
    from caravane.network.models import Assignment, Site, StaffMember
    from caravane.patients.models import Patient
    from patient_search import build
    from serving import fhir_patient

    call_command("migrate", interactive=False, verbosity=0)
    build(args.patients, sites=50)
    site = Site.objects.get(code="bench-site-0")
    clerk, _ = StaffMember.objects.get_or_create(first_name="Bench", last_name="Clerk", role="nurse")
    at_site = list(Patient.objects.filter(registration_site=site).order_by("pk")[:SAMPLE])
    if not Observation.objects.exists():
        when = datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.timezone.utc)
        with transaction.atomic():
            visits = Encounter.objects.bulk_create(
                Encounter(patient=p, site=site, service_date=when.date(), status="done", checked_in_at=when,
                          finished_at=when, checked_in_by=clerk, signed_at=when, signed_by=clerk) for p in at_site)
            Observation.objects.bulk_create(
                Observation(encounter=v, patient_id=v.patient_id, recorder=clerk, code=code, display=display,
                            value=Decimal(value), unit=unit, panel=panel, effective_at=when)
                for v in visits for code, display, value, unit, panel in (
                    (WEIGHT, "Body weight", "64.5", "kg", ""), ("8480-6", "Systolic blood pressure", "128",
                                                                "mm[Hg]", "85354-9"),
                    ("8462-4", "Diastolic blood pressure", "82", "mm[Hg]", "85354-9")))
    with connection.cursor() as cursor:
        for table in ("patients_patient", "patients_patientnametoken", "care_encounter", "care_observation"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    tokens = {}
    for username, role in (("bench-fhir-nurse", "nurse"), ("bench-fhir-admin", "administrator")):
        user, created = User.objects.get_or_create(username=username)
        if created:
            staff = StaffMember.objects.create(user=user, first_name="Bench", last_name=role, role=role)
            if role == "nurse":
                Assignment.objects.create(staff=staff, site=site, start_date=datetime.date(2020, 1, 1))
        tokens[role] = do_create_api_token(user=user, name="fhir bench")[1]
    everyone = list(Patient.objects.order_by("?").values_list("given_name", "family_name")[:SAMPLE])
    with open(OUT / "fhir_patients.json", "w", encoding="utf-8") as out:
        json.dump([fhir_patient(p) for p in at_site], out, ensure_ascii=False)
    with open(OUT / "fhir_observations.json", "w", encoding="utf-8") as out:
        json.dump([{"resourceType": "Observation", "id": str(o.pk), "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": o.code}]},
                    "subject": {"reference": f"Patient/{o.patient_id}"}, "effectiveDateTime": o.effective_at.isoformat(),
                    "valueQuantity": {"value": float(o.value), "unit": o.unit, "system": "http://unitsofmeasure.org",
                                      "code": o.unit}}
                   for o in Observation.objects.filter(code=WEIGHT)], out, ensure_ascii=False)
    print(json.dumps({
        "tokens": tokens, "ids": [str(p.pk) for p in at_site],
        "site_names": [f"{p.given_name} {p.family_name}" for p in at_site if p.given_name],
        "names": [f"{g} {f}" for g, f in everyone if g],
        "patients": Patient.objects.count(),
    }))


def measure(tools: str, spec: dict) -> dict:
    """One closed-loop measurement by bench/loadgen.py."""
    spec_file = OUT / "fhir_loadgen.json"
    spec_file.write_text(json.dumps(spec))
    answer = subprocess.run([tools, str(BENCH / "loadgen.py"), str(spec_file)], capture_output=True, text=True)
    if answer.returncode:
        sys.exit(f"load generator failed: {answer.stderr[-2000:]}")
    return json.loads(answer.stdout)


def run(args) -> int:
    tools = bench_python()
    database_url = postgres_url(args.database)
    caravane_port, reference_port = args.port_base, args.port_base + 1
    require_free(caravane_port, reference_port)
    print(f"Preparing {args.patients} patients in PostgreSQL database {args.database}...", flush=True)
    env = {**os.environ, "DATABASE_URL": database_url, "CARAVANE_DATA_DIR": str(OUT / "data")}
    child = subprocess.run([sys.executable, __file__, "prepare", f"--patients={args.patients}"], env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, text=True)
    if child.returncode:
        sys.exit("preparation failed")
    prepared = json.loads(child.stdout.strip().splitlines()[-1])
    processes = Processes()
    command, described = serve_command(caravane_port, 1)
    server_env = {**env, "CARAVANE_DEBUG": "0", "CARAVANE_ALLOWED_HOSTS": "127.0.0.1,localhost",
                  "PYTHONPATH": str(ROOT / "src")}
    server_env.pop("REDIS_URL", None)
    caravane = processes.start("caravane-fhir", command, env=server_env)
    reference = processes.start("fhirstarter", [tools, str(BENCH / "multiserve.py"), "fhir_reference:app", "--port",
                                                str(reference_port), "--workers", "1"],
                                env={**os.environ, "FHIR_PATIENTS": str(OUT / "fhir_patients.json"),
                                     "FHIR_OBSERVATIONS": str(OUT / "fhir_observations.json")}, cwd=BENCH)
    nurse = {"Authorization": f"Bearer {prepared['tokens']['nurse']}", "Accept": "application/fhir+json"}
    admin = {"Authorization": f"Bearer {prepared['tokens']['administrator']}", "Accept": "application/fhir+json"}
    ours, theirs = f"http://127.0.0.1:{caravane_port}/fhir/R4", f"http://127.0.0.1:{reference_port}"
    ids = prepared["ids"]
    processes.wait_ready("caravane-fhir", caravane, f"{ours}/Patient/{ids[0]}", headers=nurse)
    processes.wait_ready("fhirstarter", reference, f"{theirs}/Patient/{ids[0]}")
    print(f"Caravane: {described} (FHIR /fhir/R4, bearer token, gate, one audit row per request); "
          f"fhirstarter 4.2.0: one uvicorn process, in-memory provider; {prepared['patients']} patients in Caravane, "
          f"{len(ids)} of the nurse's site in both; closed loop, warm-up {args.warmup} s, {args.duration} s per level")
    print("The machine is shared (other benchmarks and test runs may be using its 2 cores).")
    print("Caravane answers the two interactions on its read lane (caravane.core.lane); 'full path' is the same "
          "request with a cookie, which the lane hands to Django's whole request cycle.")
    print(f"{'clients':>7}  {'interaction':62} {'ok/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    timing = {"warmup": args.warmup, "duration": args.duration}
    observations = f"?code={WEIGHT}&patient="
    pairs = {
        "Patient read": ({"base": f"{ours}/Patient/", "ids": ids, "headers": nurse},
                         {"base": f"{theirs}/Patient/", "ids": ids, "headers": {"Accept": "application/fhir+json"}}),
        "Observation search by patient and code": (
            {"base": f"{ours}/Observation{observations}", "ids": ids, "headers": nurse},
            {"base": f"{theirs}/Observation{observations}", "ids": ids, "headers": {"Accept": "application/fhir+json"}}),
    }
    status = 0
    for level in args.levels:
        for label, (caravane_spec, reference_spec) in pairs.items():
            results = {}
            # A request with a cookie is never taken by the read lane: the same read through Django's full path.
            full_path = {**caravane_spec, "headers": {**caravane_spec["headers"], "Cookie": "bench=1"}}
            for peer, spec in (("Caravane", caravane_spec), ("Caravane, full path", full_path),
                               ("fhirstarter", reference_spec)):
                result = results[peer] = measure(tools, {**spec, **timing, "concurrency": level})
                print(f"{level:>7}  {label + ' / ' + peer:62} {result['throughput']:8.1f} {result['p50']:8.1f} "
                      f"{result['p99']:8.1f} {result['errors']:>7}", flush=True)
                status |= bool(result["errors"])
            ratio = results["Caravane"]["throughput"] / max(results["fhirstarter"]["throughput"], 1e-9)
            print(f"{level:>7}  {label}: Caravane / fhirstarter throughput {ratio:.2f} (target >= 3)", flush=True)
    for label, headers, names in (("name search, nurse (her site)", nurse, prepared["site_names"]),
                                  ("name search, administrator (national)", admin, prepared["names"])):
        spec = {"base": f"{ours}/Patient?_count=20&name=", "ids": [quote(n) for n in names], "headers": headers}
        result = measure(tools, {**spec, **timing, "concurrency": 1})
        print(f"{1:>7}  {label:62} {result['throughput']:8.1f} {result['p50']:8.1f} {result['p99']:8.1f} "
              f"{result['errors']:>7}  (p99 target < 50 ms: {'met' if result['p99'] < 50 else 'MISSED'})", flush=True)
        status |= bool(result["errors"])
    processes.stop_all()
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("prepare")
    child.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--patients", type=int, default=200_000, help="Patients in the Caravane database.")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="PostgreSQL database (created if missing).")
    parser.add_argument("--port-base", type=int, default=18610, help="First of the 2 ports used.")
    parser.add_argument("--levels", type=lambda text: [int(v) for v in text.split(",")], default=[1, 10])
    parser.add_argument("--duration", type=float, default=10, help="Measured seconds per level and peer.")
    parser.add_argument("--warmup", type=float, default=2, help="Seconds not measured before each level.")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.command == "prepare":
        prepare(args)
    else:
        sys.exit(run(args))


if __name__ == "__main__":
    main()
