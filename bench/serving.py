"""Serving benchmarks, end to end through HTTP with authentication, scope and audit, peers side by side.

Usage (from the repository root, with the project's Python; PostgreSQL from DATABASE_URL's server, or
postgres@127.0.0.1:5432):

  .venv/bin/python bench/serving.py patient-read [--patients 2000] [--levels 1,10,50] [--duration 20]
  .venv/bin/python bench/serving.py clinical-day [--users 200] [--duration 60] [--step 20] [--patients 20000]

Common flags: --database NAME (created if missing), --workers N (Caravane's processes, and fhirstarter's),
--port-base P (uses P to P+3), --warmup S.

patient-read: one PostgreSQL database with N synthetic patients at 5 sites; a nurse assigned to one of them
reads random patients of her own scope with a bearer token (``GET /api/patients/{id}``: token check, scope,
one audit row each, which the script counts afterwards) from a multi-process Caravane server, and the same
generator reads the same N patients, as FHIR Patient resources, from the fhirstarter reference server (PyPI
fhirstarter 4.2.0, FastAPI, in-memory provider: bench/fhir_reference.py) at the same concurrency levels and
durations, alternating, in the same run. Prints req/s, p50/p99, errors and Caravane's share of fhirstarter's
throughput (target: at least 1.0).

clinical-day: the demo network (``caravane demo``) plus N patients at its sites, served by Caravane behind
nginx with PostgreSQL and Redis (REDIS_URL, default redis://127.0.0.1:6379/0). locust 2.47.0 (as a library,
bench/clinical_day.py) runs U users: nurses, GPs and specialists in browsers (session login with CSRF, pages,
and the pages' API calls with the CSRF header) and mobile units' tablets (API with bearer tokens), with
realistic pauses, doing a day's mix (search, check-in, vitals, chart, queue, worklist, telemedicine request,
conversation). Prints p50/p95/p99 per request type and overall and the errors (targets: p99 < 300 ms, no
error), then raises the arrival rate step by step until p99 crosses 1 s and prints that throughput.

Both print the peak number of PostgreSQL connections to the database against the configured maximum.
The tools (fhirstarter, locust, aiohttp, uvicorn) live in the bench's own virtual environment, bench/out/venv
(CARAVANE_BENCH_VENV to move it), which the script creates when missing; servers' logs go to bench/out/.
Servers are stopped at the end, on errors and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from benchlib import ROOT, postgres_url
from loadkit import BENCH, OUT, ConnectionSampler, Processes, bench_python, pool_ceiling, require_free, serve_command

DEFAULT_READ_DATABASE = "caravane_serving_read"
DEFAULT_DAY_DATABASE = "caravane_serving_day"
READ_SITES = 5  # the nurse's site holds a fifth of the patients


# --- Preparation, in a child process bound to the bench database -------------------------------------------

def prepare_read(args) -> None:
    """Build the patients, the nurse and her token; write the FHIR copies; print what the run needs as JSON."""
    from benchlib import setup_django

    setup_django()
    import datetime

    from django.core.management import call_command
    from django.db import connection

    from caravane.accounts.actions import do_create_api_token, do_revoke_api_token
    from caravane.accounts.models import ApiToken, User
    from caravane.core.access import Perm
    from caravane.network.models import Assignment, Site, StaffMember
    from caravane.patients.models import Patient
    from patient_search import build

    call_command("migrate", interactive=False, verbosity=0)
    build(args.patients, sites=READ_SITES)
    if Patient.objects.count() != args.patients:
        sys.exit(f"The database holds {Patient.objects.count()} patients, not {args.patients}: "
                 "use a fresh --database for another count.")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE patients_patient")
    user, created = User.objects.get_or_create(username="bench-serving-nurse")
    if created:
        staff = StaffMember.objects.create(user=user, first_name="Bench", last_name="Nurse", role="nurse")
        Assignment.objects.create(staff=staff, site=Site.objects.get(code="bench-site-0"),
                                  start_date=datetime.date(2020, 1, 1))
    for old in ApiToken.objects.filter(user=user, revoked_at=None):
        do_revoke_api_token(actor=user, token=old)
    _token, raw = do_create_api_token(user=user, name="serving bench")
    in_scope = [str(pk) for pk in Patient.objects.restrict(user, Perm.VIEW_PATIENT).values_list("pk", flat=True)]
    resources = [fhir_patient(patient) for patient in Patient.objects.all().iterator()]
    with open(OUT / "fhir_patients.json", "w", encoding="utf-8") as out:
        json.dump(resources, out, ensure_ascii=False)
    print(json.dumps({"token": raw, "ids": in_scope, "all_ids": [r["id"] for r in resources]}))


def fhir_patient(patient) -> dict:
    """A Caravane patient as a FHIR R5 Patient resource for the reference server."""
    names = []
    if patient.family_name or patient.given_name:
        names.append({"use": "official", "family": patient.family_name or None,
                      "given": [patient.given_name] if patient.given_name else None})
    if patient.family_name_ar or patient.given_name_ar:
        names.append({"use": "official", "family": patient.family_name_ar or None,
                      "given": [patient.given_name_ar] if patient.given_name_ar else None})
    identifiers = [{"system": "urn:caravane:record-number", "value": patient.record_number}]
    if patient.national_id:
        identifiers.append({"system": "urn:ma:cin", "value": patient.national_id})
    resource = {"resourceType": "Patient", "id": str(patient.pk), "active": True, "identifier": identifiers,
                "name": [{k: v for k, v in name.items() if v} for name in names], "gender": patient.gender or None,
                "birthDate": patient.birth_date.isoformat() if patient.birth_date else None,
                "telecom": [{"system": "phone", "value": patient.phone}] if patient.phone else None}
    return {k: v for k, v in resource.items() if v is not None}


def run_child(step: str, args, database_url: str) -> dict:
    """Run a preparation step in a fresh process bound to ``database_url``; return its JSON answer."""
    env = {**os.environ, "DATABASE_URL": database_url, "CARAVANE_DATA_DIR": str(OUT / "data")}
    extra = [f"--patients={args.patients}"]
    if step == "prepare-day":
        extra.append(f"--users={args.users}")
    result = subprocess.run([sys.executable, __file__, step, *extra], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    if result.returncode:
        sys.exit(f"{step} failed (exit {result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Shared ----------------------------------------------------------------------------------------------

def server_env(database_url: str, redis_url: str | None = None) -> dict:
    """The environment of a Caravane server under load: debug off, no per-request logging."""
    env = {**os.environ, "DATABASE_URL": database_url, "CARAVANE_DATA_DIR": str(OUT / "data"),
           "CARAVANE_DEBUG": "0", "CARAVANE_ALLOWED_HOSTS": "127.0.0.1,localhost",
           "PYTHONPATH": str(ROOT / "src")}
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def audit_rows(database_url: str) -> int:
    """How many rows the audit trail holds."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0]


def print_connections(sampler: ConnectionSampler, peak: int, label: str, workers: int, task_workers: int = 0) -> None:
    """The peak of the database's connections against the app's configured ceiling and PostgreSQL's maximum."""
    print(f"PostgreSQL connections to {sampler.database} during {label}: peak {peak}, "
          f"{pool_ceiling(workers, task_workers)}, max_connections {sampler.max_connections()} (server-wide)")


# --- patient-read ------------------------------------------------------------------------------------------

def patient_read(args) -> int:
    """Caravane vs fhirstarter, same patients, same generator, same levels, in one run."""
    tools = bench_python()
    database = args.database or DEFAULT_READ_DATABASE
    database_url = postgres_url(database)
    caravane_port, fhir_port = args.port_base, args.port_base + 1
    require_free(caravane_port, fhir_port)
    print(f"Preparing {args.patients} patients in PostgreSQL database {database}...", flush=True)
    prepared = run_child("prepare-read", args, database_url)
    ids, token = prepared["ids"], prepared["token"]
    processes = Processes()
    command, described = serve_command(caravane_port, args.workers)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")  # several web processes share events
    caravane = processes.start("caravane-read", command, env=server_env(database_url, redis_url))
    fhir = processes.start("fhirstarter", [tools, str(BENCH / "multiserve.py"), "fhir_reference:app",
                                           "--port", str(fhir_port), "--workers", str(args.workers)],
                           env={**os.environ, "FHIR_PATIENTS": str(OUT / "fhir_patients.json")}, cwd=BENCH)
    auth = {"Authorization": f"Bearer {token}"}
    processes.wait_ready("caravane-read", caravane, f"http://127.0.0.1:{caravane_port}/api/patients/{ids[0]}",
                         headers=auth)
    processes.wait_ready("fhirstarter", fhir, f"http://127.0.0.1:{fhir_port}/Patient/{ids[0]}")
    peers = {
        "Caravane": {"base": f"http://127.0.0.1:{caravane_port}/api/patients/", "ids": ids, "headers": auth},
        "fhirstarter": {"base": f"http://127.0.0.1:{fhir_port}/Patient/", "ids": prepared["all_ids"],
                        "headers": {"Accept": "application/fhir+json"}},
    }
    print(f"Caravane: {described}; a site-scoped nurse reads {len(ids)} patients of her site at random "
          f"(bearer token, scope, one audit row per read)")
    print(f"fhirstarter 4.2.0: {args.workers} uvicorn processes (bench/multiserve.py), in-memory provider, "
          f"{len(prepared['all_ids'])} Patient resources")
    print(f"{args.patients} patients in each; closed loop, warm-up {args.warmup} s then {args.duration} s per level")
    print(f"{'clients':>7}  {'server':12} {'ok/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    sampler = ConnectionSampler(database_url.rsplit("/", 1)[0], database)
    peak, status = 0, 0
    audit_before = audit_rows(database_url)
    caravane_requests = 0
    for level in args.levels:
        results = {}
        for name, spec in peers.items():
            spec_file = OUT / "loadgen.json"
            spec_file.write_text(json.dumps({**spec, "concurrency": level, "warmup": args.warmup,
                                             "duration": args.duration}))
            with sampler:
                answer = subprocess.run([tools, str(BENCH / "loadgen.py"), str(spec_file)], capture_output=True,
                                        text=True)
            if answer.returncode:
                sys.exit(f"load generator failed: {answer.stderr[-2000:]}")
            result = results[name] = json.loads(answer.stdout)
            if name == "Caravane":
                peak = max(peak, sampler.peak)
                caravane_requests += result["requests"]
            kinds = ", ".join(f"{k} x{v}" for k, v in result["error_kinds"].items())
            print(f"{level:>7}  {name:12} {result['throughput']:8.1f} {result['p50']:8.1f} {result['p99']:8.1f} "
                  f"{result['errors']:>7}" + (f"  ({kinds})" if kinds else ""), flush=True)
            status |= bool(result["errors"])
        ratio = results["Caravane"]["throughput"] / max(results["fhirstarter"]["throughput"], 1e-9)
        print(f"{level:>7}  Caravane / fhirstarter throughput: {ratio:.2f}   "
              f"(target >= 1.0: {'met' if ratio >= 1 else 'MISSED'})", flush=True)
    processes.stop_all()
    written = audit_rows(database_url) - audit_before
    print(f"audit rows written during the run: {written} (Caravane's recorded requests: {caravane_requests}, "
          "plus those of warm-ups and of requests still running at each level's end)")
    print_connections(sampler, peak, "the Caravane runs", args.workers)
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("patient-read", "clinical-day", "prepare-read", "prepare-day"):
        cmd = sub.add_parser(name)
        internal = name.startswith("prepare")
        cmd.add_argument("--patients", type=int, default=2000 if "read" in name else 20000,
                         help="Patients in the database (both servers hold the same number for patient-read).")
        if name.endswith("day"):
            cmd.add_argument("--users", type=int, default=200, help="Simulated users.")
        if internal:
            continue
        cmd.add_argument("--database", help="PostgreSQL database (created if missing).")
        cmd.add_argument("--workers", type=int, default=2, help="Server processes.")
        cmd.add_argument("--port-base", type=int, default=8131, help="First of the 4 ports used.")
        cmd.add_argument("--warmup", type=float, default=3, help="Seconds not measured before each level.")
        if name == "patient-read":
            cmd.add_argument("--levels", type=lambda text: [int(v) for v in text.split(",")], default=[1, 10, 50],
                             help="Concurrent clients, comma-separated.")
            cmd.add_argument("--duration", type=float, default=20, help="Measured seconds per level and server.")
        else:
            cmd.add_argument("--duration", type=float, default=60, help="Measured seconds of the clinical day.")
            cmd.add_argument("--step", type=float, default=20, help="Measured seconds of each ramp step.")
            cmd.add_argument("--max-rate", type=float, default=400, help="Highest arrival rate tried (req/s).")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.command == "prepare-read":
        prepare_read(args)
    elif args.command == "prepare-day":
        from clinical_prepare import prepare_day

        prepare_day(args)
    elif args.command == "patient-read":
        sys.exit(patient_read(args))
    else:
        from clinical_prepare import clinical_day

        sys.exit(clinical_day(args))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped")
