"""Planning benchmarks (targets, not tests): prints figures.

1. Random and real-derived covering instances (up to 2,000 demand points x 300 candidates):
   our coverage / HiGHS's proven optimum (target >= 0.99), our time / HiGHS's (target <= 0.1).
2. National scale (1,503 communes, every rural commune a candidate, N=50): our coverage / plain
   greedy's, gap to our bound, time (target < 60 s on 2 cores). Needs the geography in the
   database (`caravane load_geography`); facilities come from the database, or from the shared
   healthsites 2020 list (read, not imported) when the database has no hospital.
3. Tours: visits placed and total km of our routing (cheapest-insertion start, guided local
   search) / an OR-Tools baseline (path-cheapest-arc start, guided local search), same time limit.
   A dropped visit matters more than kilometres: compare those first.

Usage: .venv/bin/python bench/planning_bench.py [--quick]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caravane.settings")

import django  # noqa: E402

django.setup()

from caravane.planning.solvers import run_in_subprocess  # noqa: E402
from caravane.planning.solvers.mclp import (MclpInstance, exact_assignment, greedy, random_instance, solve,  # noqa: E402
                                            solve_exact)

QUICK = "--quick" in sys.argv


def compare(label: str, inst: MclpInstance, limit: float = 10.0) -> None:
    ours = solve(inst, time_limit=limit)
    exact = solve_exact(inst, time_limit=300)
    print(f"{label:<44} ours/opt {ours.covered / max(exact.covered, 1e-9):.4f}  time ratio "
          f"{ours.seconds / max(exact.seconds, 1e-9):.3f}  ({ours.seconds:.2f} s vs {exact.seconds:.2f} s, "
          f"HiGHS {exact.status}, our gap {ours.gap:.3%}, bound >= opt: {ours.upper_bound >= exact.covered - 1e-6})")


def random_section() -> None:
    print("== random instances (unit square) ==")
    rng = np.random.default_rng(7)
    sizes = [(500, 100, 10), (2000, 300, 20)] if not QUICK else [(500, 100, 10)]
    for n, m, k in sizes:
        for capacity in (None, 8.0e4):
            inst = random_instance(rng, n_demand=n, n_candidates=m, n_units=k, radius=0.08, capacity=capacity,
                                   n_groups=m // 10, max_per_group=2)
            compare(f"{n}x{m} N={k} capacity={capacity}", inst)


HEALTHSITES = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "morocco" / "healthsites_2020"
               / "morocco_healthsites_2020.csv")


def real_facilities():
    """The database's facilities, or (read-only) the shared healthsites 2020 list when it has none."""
    from caravane.planning.analysis import FacilityTable
    from caravane.planning.facilities import parse_facilities
    from caravane.planning.pipeline import load_facilities

    facilities, summary = load_facilities()
    if "hospital" not in summary["facilities"] and HEALTHSITES.exists():
        parsed = parse_facilities(HEALTHSITES.read_bytes())
        facilities = FacilityTable.from_rows([(str(k), r["name"], r["kind"], r["lat"], r["lon"])
                                              for k, r in enumerate(parsed.rows)])
    return facilities


def real_instance(n_units: int, *, capacity: float | None = 6.0e4, max_candidates: int | None = None):
    from caravane.geo.models import Commune
    from caravane.planning.analysis import CommuneTable, analyse
    from caravane.planning.geodesy import RoadDistance
    from caravane.planning.pipeline import Parameters, build_instance

    params = Parameters(n_units=n_units, capacity=capacity)
    table = CommuneTable.from_queryset(Commune.objects.all())
    facilities = real_facilities()
    analysis = analyse(table, facilities, care_kinds=params.care_kinds, thresholds_km=params.thresholds_km,
                       underserved_km=params.underserved_km)
    inst, demand, candidates = build_instance(params, analysis, RoadDistance(params.detour_factor))
    if max_candidates and inst.n_candidates > max_candidates:
        keep = np.random.default_rng(1).choice(inst.n_candidates, max_candidates, replace=False)
        inst = MclpInstance(weights=inst.weights, reach=[inst.reach[j] for j in keep], n_units=n_units,
                            capacity=inst.capacity, groups=inst.groups[keep], max_per_group=inst.max_per_group)
    return inst


def real_section() -> None:
    from caravane.geo.models import Commune

    if Commune.objects.count() < 1500:
        print("== real-derived and national: skipped (run `caravane load_geography` first) ==")
        return
    print("== real-derived instances (census communes, healthsites 2020 facilities) ==")
    for n_units in (10, 20):
        for capacity in (None, 1.5e5):
            compare(f"communes x 300 candidates N={n_units} capacity={capacity}",
                    real_instance(n_units, capacity=capacity, max_candidates=300))
    print("== national scale: 1,503 communes, every rural commune a candidate, N=50 ==")
    inst = real_instance(50)
    start = time.perf_counter()
    plain = exact_assignment(inst, greedy(inst))[0]
    greedy_s = time.perf_counter() - start
    ours = solve(inst, time_limit=50)
    print(f"demand points {inst.n_demand}, candidates {inst.n_candidates}, pairs {sum(map(len, inst.reach))}")
    print(f"ours/greedy {ours.covered / max(plain, 1e-9):.4f}  gap to bound {ours.gap:.3%}  time {ours.seconds:.2f} s "
          f"(greedy {greedy_s:.2f} s)")
    uncapacitated = MclpInstance(weights=inst.weights, reach=inst.reach, n_units=50, groups=inst.groups,
                                 max_per_group=inst.max_per_group)
    plain = exact_assignment(uncapacitated, greedy(uncapacitated))[0]
    ours = solve(uncapacitated, time_limit=50)
    print(f"(no capacity) ours/greedy {ours.covered / max(plain, 1e-9):.4f}  gap {ours.gap:.3%}  "
          f"time {ours.seconds:.2f} s")


def tours_section() -> None:
    print("== tours: ours (cheapest insertion + guided local search) vs OR-Tools baseline (path cheapest arc + "
          "guided local search), same time limit ==")
    rng = np.random.default_rng(3)
    units = []
    for _ in range(3 if QUICK else 6):
        base = {"lat": 31.0 + rng.random(), "lon": -8.0 + rng.random()}
        stops = [{"id": f"c{k}", "lat": base["lat"] + rng.normal(0, 0.15), "lon": base["lon"] + rng.normal(0, 0.15),
                  "visits": int(rng.integers(1, 5))} for k in range(25)]
        units.append({"base": base, "stops": stops})
    options = {"days": 20, "daily_km": 150, "speed_kmh": 50, "service_minutes": 120, "day_minutes": 600,
               "return_to_base": True, "detour_factor": 1.4, "time_limit": 2.0}
    ours = run_in_subprocess("tours", {"units": units, "options": options})
    base = run_in_subprocess("tours", {"units": units, "options": {**options, "first_solution": "PATH_CHEAPEST_ARC"}})
    km_ours = sum(u["total_km"] for u in ours["units"])
    km_base = sum(u["total_km"] for u in base["units"])
    dropped = (sum(len(u["dropped"]) for u in ours["units"]), sum(len(u["dropped"]) for u in base["units"]))
    print(f"total km ours/baseline {km_ours / max(km_base, 1e-9):.4f}  ({km_ours:.0f} vs {km_base:.0f} km; "
          f"dropped visits {dropped[0]} vs {dropped[1]})")


if __name__ == "__main__":
    random_section()
    real_section()
    tours_section()
