"""Planning benchmarks (targets, not tests): prints figures.

1. Random and real-derived covering instances (up to 2,000 demand points x 300 candidates):
   our coverage / HiGHS's proven optimum (target >= 0.99), our time / HiGHS's (target <= 0.1).
2. National scale (1,503 communes; demand = every commune's population farther than 10 km from care;
   every rural commune a candidate base; N=50 units), the planner's heuristic and plain greedy against
   HiGHS's proven optimum (ratio, gap, time), on
   - the planner's defaults: people weighted by the underservice index, at most 2 units per province, each
     region with underserved communes owed its share of the units (reach 30 km, capacity 60,000 per unit);
     every unit fills up there, but which people it serves (and where) decides the weighted objective;
   - the same model as pure coverage (every person counts the same, at most 2 per province, no regional
     minimum), kept to show the check below: every unit is filled to capacity (optimum = N x capacity),
     so it measures nothing;
   - pure-coverage instances that measure something: reach 20 km with capacity 200,000, reach 25 km with
     300,000, and reach 20 km without capacity. 50 units reach far less than the underserved population (40
     to 50% of it), few units fill up, and placements differ widely in quality.
   Each instance prints a check that it is not trivial: units at capacity in the optimum (for pure
   coverage), and the best and mean of 50 random valid placements against the optimum (far below it when
   placement matters).
   Needs the geography in the database (`caravane load_geography`); facilities come from the database,
   or from the shared healthsites 2020 list (read, not imported) when the database has no hospital.
3. Tours: visits placed and total km of our routing (cheapest-insertion start, guided local
   search) / an OR-Tools baseline (path-cheapest-arc start, guided local search), same time limit.
   A dropped visit matters more than kilometres: compare those first.

Usage: .venv/bin/python bench/planning_bench.py [--quick] [--sections random,real,national,tours]
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
SECTIONS = (sys.argv[sys.argv.index("--sections") + 1].split(",") if "--sections" in sys.argv
            else ["random", "real", "national", "tours"])


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


def real_instance(n_units: int, *, capacity: float | None = 6.0e4, max_candidates: int | None = None,
                  reach_km: float = 30.0, fair: bool = False):
    """A covering instance from the census communes; ``fair``: the planner's default model, else pure coverage
    (every person the same, no regional minimum) with at most 2 units per province."""
    from caravane.geo.models import Commune
    from caravane.planning.analysis import CommuneTable, analyse
    from caravane.planning.geodesy import RoadDistance
    from caravane.planning.pipeline import Parameters, build_instance

    params = Parameters(n_units=n_units, capacity=capacity, reach_km=reach_km, weight_by_underservice=fair,
                        regional_minimum="share" if fair else "none")
    table = CommuneTable.from_queryset(Commune.objects.all())
    facilities = real_facilities()
    analysis = analyse(table, facilities, care_kinds=params.care_kinds, thresholds_km=params.thresholds_km,
                       underserved_km=params.underserved_km)
    inst, demand, candidates = build_instance(params, analysis, RoadDistance(params.detour_factor))
    if max_candidates and inst.n_candidates > max_candidates:
        keep = np.random.default_rng(1).choice(inst.n_candidates, max_candidates, replace=False)
        inst = MclpInstance(weights=inst.weights, reach=[inst.reach[j] for j in keep], n_units=n_units,
                            capacity=inst.capacity, groups=inst.groups[keep], max_per_group=inst.max_per_group,
                            priority=inst.priority)
    return inst


def real_section() -> None:
    from caravane.geo.models import Commune

    if Commune.objects.count() < 1500:
        print("== real-derived: skipped (run `caravane load_geography` first) ==")
        return
    print("== real-derived instances (census communes, healthsites 2020 facilities) ==")
    for n_units in (10, 20):
        for capacity in (None, 1.5e5):
            compare(f"communes x 300 candidates N={n_units} capacity={capacity}",
                    real_instance(n_units, capacity=capacity, max_candidates=300))


# The national instances: (label, reach in km, capacity per unit or None, the planner's default model or pure
# coverage); N=50 units, at most 2 per province.
NATIONAL = [
    ("the planner's defaults (weighted, regional shares)", 30.0, 6.0e4, True),
    ("pure coverage, saturated", 30.0, 6.0e4, False),
    ("pure coverage, capacity 200,000", 20.0, 2.0e5, False),
    ("pure coverage, capacity 300,000", 25.0, 3.0e5, False),
    ("pure coverage, no capacity", 20.0, None, False),
]
RANDOM_PLACEMENTS = 50


def random_placement(inst: MclpInstance, rng: np.random.Generator) -> list[int]:
    """A uniformly shuffled valid placement: N bases, at most ``max_per_group`` in any province, the regions'
    minimums met first."""
    chosen, per_group = [], {}
    owed = None if inst.zones is None else inst.zone_min.copy()
    order = rng.permutation(inst.n_candidates).tolist()

    def take(j) -> bool:
        group = None if inst.groups is None else int(inst.groups[j])
        if j in chosen or (inst.max_per_group is not None and per_group.get(group, 0) >= inst.max_per_group):
            return False
        chosen.append(j)
        per_group[group] = per_group.get(group, 0) + 1
        return True

    if owed is not None:
        for j in order:
            z = int(inst.zones[j])
            if z >= 0 and owed[z] > 0 and take(j):
                owed[z] -= 1
    for j in order:
        if len(chosen) == inst.n_units:
            break
        take(j)
    return chosen


def units_at_capacity(inst: MclpInstance, assignment) -> int:
    """How many open bases serve their full capacity in ``assignment`` (demand, base, share) triples."""
    if inst.capacity is None:
        return 0
    served = {}
    for i, j, share in assignment:
        served[j] = served.get(j, 0.0) + inst.weights[i] * share
    return sum(1 for load in served.values() if load >= inst.capacity * (1 - 1e-6))


def national_section() -> None:
    from caravane.geo.models import Commune

    if Commune.objects.count() < 1500:
        print("== national: skipped (run `caravane load_geography` first) ==")
        return
    print("== national scale: 1,503 communes, every rural commune a candidate, N=50 (at most 2 per province) ==")
    print("   values are the model's objective: people weighted by the underservice index in the planner's defaults,")
    print("   people in the pure-coverage instances")
    print("   ours = the planner's heuristic (greedy + swaps, Lagrangian bound); greedy = plain greedy;")
    print("   opt = HiGHS's proven optimum; random = best and mean of "
          f"{RANDOM_PLACEMENTS} random valid placements (the instance is trivial when they come close to opt)")
    rng = np.random.default_rng(11)
    for label, reach_km, capacity, fair in NATIONAL[:2] if QUICK else NATIONAL:
        inst = real_instance(50, capacity=capacity, reach_km=reach_km, fair=fair)
        start = time.perf_counter()
        plain = exact_assignment(inst, greedy(inst))[0]
        greedy_s = time.perf_counter() - start
        ours = solve(inst, time_limit=50)
        exact = solve_exact(inst, time_limit=300)
        randoms = [exact_assignment(inst, random_placement(inst, rng))[0] for _ in range(RANDOM_PLACEMENTS)]
        opt = max(exact.covered, 1e-9)
        full = units_at_capacity(inst, exact.assignment)
        saturated = not fair and capacity is not None and full == inst.n_units
        trivial = saturated or max(randoms) >= 0.99 * opt
        cap = "none" if capacity is None else f"{capacity:,.0f}"
        print(f"-- {label}: reach {reach_km:.0f} km, capacity {cap}; {inst.n_demand} demand points "
              f"({inst.weights.sum():,.0f} underserved), {inst.n_candidates} candidates, "
              f"{sum(map(len, inst.reach)):,} pairs")
        print(f"   opt {exact.covered:,.0f} (HiGHS {exact.status}, {exact.seconds:.2f} s); units at capacity in it "
              f"{full}/{inst.n_units}" + (f"; opt / (N x capacity) {exact.covered / (50 * capacity):.3f}"
                                          if capacity else ""))
        ratio = ours.seconds / max(exact.seconds, 1e-9)
        print(f"   ours/opt {ours.covered / opt:.4f}  time {ours.seconds:.2f} s ({ratio:.2f} of HiGHS's)  "
              f"our gap to our bound {ours.gap:.3%}  bound >= opt: "
              f"{ours.upper_bound >= exact.covered - 1e-6}")
        print(f"   greedy/opt {plain / opt:.4f}  time {greedy_s:.2f} s")
        print(f"   random/opt best {max(randoms) / opt:.4f}  mean {np.mean(randoms) / opt:.4f}  ->  "
              + ("TRIVIAL: " + ("every unit is full at the optimum (N x capacity), which any greedy reaches"
                                if saturated else "random placements come within 1% of the optimum")
                 + "; this instance measures nothing" if trivial else "not trivial: placements differ in quality"))


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
    run = {"random": random_section, "real": real_section, "national": national_section, "tours": tours_section}
    for section in SECTIONS:
        run[section]()
