"""What the bench scripts share: Django set-up, latency percentiles and their printing, one run per database."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(*, temporary_data: bool = False) -> None:
    """Make ``caravane`` importable and set Django up, in a fresh temporary data folder if asked (and none is set)."""
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caravane.settings")
    if temporary_data:
        os.environ.setdefault("CARAVANE_DATA_DIR", tempfile.mkdtemp(prefix="caravane-bench-"))
    import django

    django.setup()


def migrate_with_geography() -> float:
    """Migrate and load the geography, print how long it took, and return when it started (perf_counter)."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("load_geography", stdout=quiet)
    print(f"migrate + geography   {time.perf_counter() - started:6.2f} s")
    return started


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which ``fraction`` of the samples fall (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def p50_p99(samples: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile of ``samples``."""
    return statistics.median(samples), percentile(samples, 0.99)


def latency(samples: list[float]) -> str:
    """``p50 … ms   p99 … ms`` of millisecond ``samples``, aligned for a column of such lines."""
    p50, p99 = p50_p99(samples)
    return f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"


def verdict(p99: float, target_ms: float) -> str:
    """Whether a p99 meets its target, for the end of a printed line."""
    return f"target p99 < {target_ms} ms: {'met' if p99 < target_ms else 'MISSED'}"


def postgres_url(database: str) -> str:
    """The URL of ``database`` on DATABASE_URL's server (or postgres@127.0.0.1), created if missing."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    server = base.rsplit("/", 1)[0]
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    return f"{server}/{database}"


def main_per_database(script: str, doc: str, child, *, counts: dict[str, int], sqlite_dir: str, database: str,
                      drop_env: tuple[str, ...] = ("DATABASE_URL",)) -> None:
    """A bench's command line: ``--<count> N`` options (defaults ``counts``), ``--only sqlite|postgres``, ``--database``.

    Runs ``child(args)`` in a fresh process once on SQLite (in ``sqlite_dir``) and once on PostgreSQL
    ``database``, since Django binds its database at start-up; exits with their combined status.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in counts.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--database", default=database, help=f"PostgreSQL database name (default {database})")
    parser.add_argument("--sqlite-dir", default=sqlite_dir, help=f"SQLite data folder (default {sqlite_dir})")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    base = {k: v for k, v in os.environ.items() if k not in drop_env}
    runs = []
    if args.only in (None, "sqlite"):
        runs.append({**base, "CARAVANE_DATA_DIR": args.sqlite_dir})
    if args.only in (None, "postgres"):
        runs.append({**base, "DATABASE_URL": postgres_url(args.database)})
    arguments = [part for name in counts for part in (f"--{name}", str(getattr(args, name)))]
    status = 0
    for env in runs:
        status |= subprocess.run([sys.executable, script, "--child", *arguments], env=env, cwd=ROOT).returncode
    sys.exit(status)
