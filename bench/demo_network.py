"""Time to build the demo network, to rebuild it (nothing to add), and to flag the understaffed units.

Usage: .venv/bin/python bench/demo_network.py
Works in a fresh temporary SQLite database (or DATABASE_URL's, which must be empty of the demo
for the first figure to mean anything). Targets: build under 2 s, rebuild under 1 s, staffing of
all 50 units in one query whatever their number.
"""

from __future__ import annotations

import time

from benchlib import migrate_with_geography, setup_django

setup_django(temporary_data=True)

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main() -> None:
    from caravane.demo.network import build_demo_network
    from caravane.network.models import Site
    from caravane.network.selectors import annotate_staffing, staffing_by_site

    migrate_with_geography()
    first = build_demo_network()
    print(f"demo build            {first.seconds:6.2f} s   (target < 2 s) {first.counts}")
    again = build_demo_network()
    print(f"demo rebuild          {again.seconds:6.2f} s   (target < 1 s) added {sum(again.created.values())} rows")
    units = Site.objects.filter(kind=Site.Kind.MOBILE_UNIT)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        flagged = [site.staffing_complete for site in annotate_staffing(units)]
        elapsed = time.perf_counter() - started
    print(f"annotated unit list   {elapsed * 1000:6.1f} ms, {len(queries)} query, {flagged.count(False)} understaffed")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        statuses = staffing_by_site(units)
        elapsed = time.perf_counter() - started
    print(f"staffing_by_site      {elapsed * 1000:6.1f} ms, {len(queries)} queries, "
          f"{sum(not s.is_complete for s in statuses.values())} understaffed")


if __name__ == "__main__":
    main()
