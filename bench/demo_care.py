"""Time to build the clinical demo (patients, consents, visits, today's queue) and to rebuild it (nothing to add).

Usage: .venv/bin/python bench/demo_care.py
Works in a fresh temporary SQLite database (or DATABASE_URL's, which must be empty of the demo for the first
figure to mean anything). Target: the whole `caravane demo` under 30 s, so the clinical part well under that.
"""

from __future__ import annotations

import time

from benchlib import migrate_with_geography, setup_django

setup_django(temporary_data=True)


def main() -> None:
    from caravane.demo.care import build_demo_care
    from caravane.demo.network import build_demo_network

    started = migrate_with_geography()
    print(f"demo network          {build_demo_network().seconds:6.2f} s")
    first = build_demo_care()
    print(f"clinical demo build   {first.seconds:6.2f} s   {first.counts}")
    again = build_demo_care()
    print(f"clinical demo rebuild {again.seconds:6.2f} s   added {sum(again.created.values())} rows")
    print(f"total                 {time.perf_counter() - started:6.2f} s   (target < 30 s)")


if __name__ == "__main__":
    main()
