"""One planning run, from parameters to results: analysis, unit bases (MCLP), then tours.

The web page, the API and ``caravane plan`` all call :func:`run_plan`; it reads the
database but changes nothing (saving a scenario is :mod:`caravane.planning.actions`).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields

import numpy as np
from django.utils.translation import gettext as _

from caravane.planning.analysis import Analysis, CommuneTable, FacilityTable, analyse, to_csv
from caravane.planning.geodesy import DETOUR_FACTOR, RoadDistance
from caravane.planning.models import FacilityKind
from caravane.planning.solvers import run_in_subprocess
from caravane.planning.solvers import mclp

DEFAULT_CARE_KINDS = ["hospital", "clinic", "health_centre", "doctors", "network_site"]
UNIT_COLUMNS = ("number", "base", "base_name", "province", "lat", "lon", "served_population")
TOUR_WORKERS = max(1, min(4, os.cpu_count() or 1))
# Beyond this many exact variables the MIP is left to the heuristic unless asked for.
EXACT_PAIR_LIMIT = 400_000


NULLABLE = ("capacity", "max_per_province")
# What each region with underserved communes is owed: its share of the units in proportion to its (weighted)
# underserved population, rounded down, and at least one; at least one; or nothing.
REGIONAL_MINIMUMS = ("share", "one", "none")


class ParameterError(ValueError):
    """A parameter is invalid; the message names it."""


def _next_monday() -> datetime.date:
    today = datetime.date.today()
    return today + datetime.timedelta(days=7 - today.weekday())


@dataclass
class Parameters:
    """Everything a run depends on besides the data; saved with each scenario."""

    regions: list[str] = field(default_factory=list)
    care_kinds: list[str] = field(default_factory=lambda: list(DEFAULT_CARE_KINDS))
    thresholds_km: list[float] = field(default_factory=lambda: [5.0, 10.0, 20.0])
    underserved_km: float = 10.0
    reach_km: float = 30.0
    n_units: int = 50
    capacity: float | None = 60000.0
    max_per_province: int | None = 2
    # The programme's intent: people count by how underserved their commune is, and each region with
    # underserved communes gets at least its share of the units (see REGIONAL_MINIMUMS).
    weight_by_underservice: bool = True
    regional_minimum: str = "share"
    rural_bases_only: bool = True
    horizon_weeks: int = 4
    working_days: int = 5
    daily_km: float = 150.0
    speed_kmh: float = 50.0
    service_minutes: int = 240
    day_minutes: int = 600
    return_to_base: bool = True
    max_visits: int = 4
    detour_factor: float = DETOUR_FACTOR
    solver: str = "heuristic"
    time_limit: float = 30.0
    tours: bool = True
    tours_time_limit: float = 0.5
    start_date: str = field(default_factory=lambda: _next_monday().isoformat())

    @classmethod
    def from_dict(cls, data: dict) -> "Parameters":
        """Build and validate parameters from a dict (unknown keys are refused)."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ParameterError(_("Unknown parameter(s): %(names)s.") % {"names": ", ".join(unknown)})
        params = cls(**{k: v for k, v in data.items() if v is not None or k in NULLABLE})
        params.validate()
        return params

    def validate(self) -> None:
        """Refuse impossible values, naming the parameter."""
        def need(ok, name, text):
            if not ok:
                raise ParameterError(f"{name}: {text}")

        bad_kinds = sorted(set(self.care_kinds) - set(FacilityKind.values))
        need(self.care_kinds and not bad_kinds, "care_kinds",
             _("choose care kinds among %(kinds)s") % {"kinds": ", ".join(FacilityKind.values)})
        need(all(t > 0 for t in self.thresholds_km) and self.thresholds_km, "thresholds_km", _("must be positive"))
        for name in ("underserved_km", "reach_km", "daily_km", "speed_kmh", "detour_factor", "time_limit"):
            need(getattr(self, name) > 0, name, _("must be positive"))
        need(self.detour_factor >= 1, "detour_factor", _("must be at least 1"))
        need(int(self.n_units) >= 1, "n_units", _("must be at least 1"))
        need(self.capacity is None or self.capacity > 0, "capacity", _("must be positive"))
        need(self.max_per_province is None or self.max_per_province >= 1, "max_per_province", _("must be at least 1"))
        need(self.regional_minimum in REGIONAL_MINIMUMS, "regional_minimum", " / ".join(REGIONAL_MINIMUMS))
        need(1 <= self.horizon_weeks <= 26, "horizon_weeks", _("between 1 and 26"))
        need(1 <= self.working_days <= 7, "working_days", _("between 1 and 7 days a week"))
        need(1 <= self.max_visits <= 31, "max_visits", _("between 1 and 31"))
        need(self.solver in ("heuristic", "exact"), "solver", _("heuristic or exact"))
        try:
            datetime.date.fromisoformat(self.start_date)
        except (TypeError, ValueError):
            raise ParameterError("start_date: " + _("a date as YYYY-MM-DD")) from None

    def dates(self) -> list[datetime.date]:
        """The working days of the horizon (the first ``working_days`` of each week, Monday first)."""
        start = datetime.date.fromisoformat(self.start_date)
        days = [start + datetime.timedelta(days=d) for d in range(7 * self.horizon_weeks)]
        return [d for d in days if d.weekday() < self.working_days]

    def to_dict(self) -> dict:
        return asdict(self)


def load_facilities() -> tuple[FacilityTable, dict]:
    """The facility points (imported lists and the network's fixed sites) and a summary of them."""
    from caravane.network.models import Site
    from caravane.planning.models import Facility, FacilityImport

    rows = [(str(f[0]), f[1], f[2], f[3], f[4]) for f in
            Facility.objects.values_list("id", "name", "kind", "latitude", "longitude")]
    sites = Site.objects.filter(active=True).exclude(kind=Site.Kind.MOBILE_UNIT)
    rows += [(f"site:{s[0]}", s[1], FacilityKind.NETWORK_SITE.value, s[2], s[3])
             for s in sites.values_list("code", "name", "latitude", "longitude")]
    kinds, counts = np.unique(np.array([r[2] for r in rows], dtype=object), return_counts=True) if rows else ([], [])
    lists = [{"source": b.source, "id": str(b.pk), "accepted": b.accepted, "imported_at": b.created_at.isoformat()}
             for b in FacilityImport.objects.order_by("source")]
    return FacilityTable.from_rows(rows), {"facilities": dict(zip(map(str, kinds), map(int, counts))),
                                           "facility_lists": lists}


def build_instance(params: Parameters, analysis: Analysis, distance: RoadDistance):
    """The covering instance: demand = underserved communes, candidates = (rural) communes."""
    communes = analysis.communes
    weights = analysis.underserved
    demand = np.flatnonzero(weights > 0)
    candidates = np.flatnonzero(communes.rural) if params.rural_bases_only else np.arange(len(communes))
    if params.n_units > len(candidates):
        raise ParameterError("n_units: " + _("%(n)d units but only %(m)d candidate base communes.") % {
            "n": params.n_units, "m": len(candidates)})
    reach = []
    for start in range(0, len(candidates), 256):
        block = distance.matrix(communes.places.take(candidates[start:start + 256]), communes.places.take(demand))
        reach += [np.flatnonzero(row <= params.reach_km) for row in block]
    provinces, groups = np.unique(communes.province[candidates], return_inverse=True)
    priority = np.clip(analysis.index[demand], 0.0, 100.0) / 100.0 if params.weight_by_underservice else None
    inst = mclp.MclpInstance(weights=weights[demand], reach=reach, n_units=int(params.n_units),
                             capacity=params.capacity, groups=groups if params.max_per_province else None,
                             max_per_group=params.max_per_province, priority=priority)
    inst.zones, inst.zone_min = _regional_minimums(params, inst, communes.region[candidates], communes.region[demand])
    return inst, demand, candidates


def _regional_minimums(params: Parameters, inst: mclp.MclpInstance, candidate_region, demand_region):
    """Each candidate's region where it reaches underserved people of its own region (else -1), and what each is owed.

    A region's share is ``floor(N x its weighted underserved population / the total)``, at least one,
    and never more than its candidates can hold under the per-province limit.
    """
    if params.regional_minimum == "none":
        return None, None
    regions = sorted(set(demand_region))
    number = {code: z for z, code in enumerate(regions)}
    zones = np.array([number[r] if r in number and (demand_region[row] == r).any() else -1
                      for r, row in zip(candidate_region, inst.reach)], dtype=np.int64)
    zone_min = np.isin(np.arange(len(regions)), zones).astype(np.int64)
    if params.regional_minimum == "share":
        need = np.array([inst.value[demand_region == code].sum() for code in regions])
        zone_min *= np.maximum(1, np.floor(inst.n_units * need / need.sum()).astype(np.int64))
    for z in np.flatnonzero(zone_min):
        members = zones == z
        room = members.sum() if inst.max_per_group is None else \
            np.minimum(np.bincount(inst.groups[members]), inst.max_per_group).sum()
        zone_min[z] = min(zone_min[z], room)
    if zone_min.sum() > params.n_units:
        raise ParameterError("regional_minimum: " + _(
            "%(r)d regions have underserved communes: at least %(r)d units are needed to reach each of them; "
            "add units or choose no regional minimum.") % {"r": int(np.count_nonzero(zone_min))})
    return zones, zone_min


def visit_frequency(population: np.ndarray, index: np.ndarray, max_visits: int) -> np.ndarray:
    """Visits over the horizon: 1 to ``max_visits``, in proportion to population x index within a unit."""
    need = population * np.maximum(index, 1.0)
    top = need.max() if len(need) else 0.0
    if top <= 0:
        return np.ones(len(need), dtype=int)
    return np.clip(1 + np.rint((max_visits - 1) * need / top), 1, max_visits).astype(int)


def run_plan(params: Parameters, *, progress=None, communes=None, distance: RoadDistance | None = None) -> dict:
    """Analyse access, place the units and plan their tours; return the results and timings.

    ``distance`` defaults to great-circle x ``params.detour_factor``; a deployment with measured
    road distances passes a :class:`~caravane.planning.geodesy.TravelMatrix` instead.
    """
    from caravane.geo.models import Commune, Province

    report = progress or (lambda fraction, text: None)
    timings, t0 = {}, time.perf_counter()
    report(0.02, _("Reading communes and facilities"))
    if communes is None:
        communes = Commune.objects.filter(region_id__in=params.regions) if params.regions else Commune.objects.all()
    table = CommuneTable.from_queryset(communes)
    if not len(table):
        if params.regions:
            raise ParameterError("regions: " + _("no commune in regions %(codes)s.") % {
                "codes": ", ".join(params.regions)})
        raise ParameterError(_("No communes: load the geography first (caravane load_geography)."))
    facilities, inputs = load_facilities()
    inputs.update(communes=len(table), population=int(table.population.sum()))
    distance = distance or RoadDistance(params.detour_factor)
    analysis = analyse(table, facilities, care_kinds=params.care_kinds, thresholds_km=params.thresholds_km,
                       underserved_km=params.underserved_km, distance=distance)
    timings["analysis"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    report(0.15, _("Building the covering problem"))
    inst, demand, candidates = build_instance(params, analysis, distance)
    try:
        inst.validate()
    except mclp.InvalidInstance as exc:
        raise ParameterError(str(exc)) from exc
    pairs = sum(len(r) for r in inst.reach)
    use_exact = params.solver == "exact"
    if use_exact and pairs > EXACT_PAIR_LIMIT:
        raise ParameterError("solver: " + _("the instance is too large to solve exactly (%(n)d pairs); use the "
                                            "heuristic.") % {"n": pairs})
    report(0.2, _("Placing the units"))
    solution = _place(params, inst, params.time_limit, lambda f: report(0.2 + 0.3 * f, _("Placing the units")))
    fair = coverage_figures(analysis, demand, candidates, solution)
    report(0.5, _("Placing the units for pure coverage"))
    if _is_pure(params):
        pure, pure_fair = solution, fair
    else:
        # Pure coverage: the same units, reach and capacity; every person counts the same, no other limit.
        pure_inst = mclp.MclpInstance(weights=inst.weights, reach=inst.reach, n_units=inst.n_units,
                                      capacity=inst.capacity)
        pure = _place(params, pure_inst, params.time_limit / 2,
                      lambda f: report(0.5 + 0.1 * f, _("Placing the units for pure coverage")))
        pure_fair = coverage_figures(analysis, demand, candidates, pure)
    timings["placement"] = time.perf_counter() - t1

    units = _units(params, analysis, solution, demand, candidates)
    t2 = time.perf_counter()
    if params.tours and units:
        report(0.6, _("Planning the tours"))
        _plan_tours(params, analysis, units, report)
    timings["tours"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    report(1.0, _("Done"))
    dates = [d.isoformat() for d in params.dates()]
    provinces = analysis.province_rows(dict(Province.objects.values_list("code", "name_fr")))
    commune_rows = analysis.commune_rows()
    return {
        "inputs": inputs,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "results": {
            "summary": {
                **_summary(solution, fair), "objective": "underservice" if params.weight_by_underservice else "people",
                "demand_points": int(len(demand)), "candidates": int(len(candidates)), "reach_pairs": int(pairs),
                "n_units": len(units), "tour_km": round(sum(u.get("tour", {}).get("total_km", 0) for u in units), 1),
            },
            "regions": fair["regions"],
            "pure_coverage": {"summary": _summary(pure, pure_fair), "regions": pure_fair["regions"],
                              "bases": analysis.communes.codes[candidates[pure.chosen]].tolist()},
            "dates": dates,
            "units": units,
            "provinces": provinces,
            "communes": commune_rows,
            # PostgreSQL's jsonb does not keep key order: the CSV column order is stored apart.
            "columns": {"provinces": list(provinces[0]) if provinces else [],
                        "communes": list(commune_rows[0]) if commune_rows else []},
        },
    }


def _is_pure(params: Parameters) -> bool:
    return not (params.weight_by_underservice or params.max_per_province) and params.regional_minimum == "none"


def _place(params: Parameters, inst, time_limit: float, progress) -> mclp.MclpSolution:
    """Solve one covering instance with the chosen solver."""
    if params.solver == "exact":
        return mclp.solve_exact(inst, time_limit=time_limit)
    return mclp.solve(inst, time_limit=time_limit, progress=lambda f, text: progress(f))


def _summary(solution: mclp.MclpSolution, fair: dict) -> dict:
    """A placement's headline figures: people served, the solver's objective, bound and gap, and fairness."""
    return {
        "method": solution.method, "status": solution.status, "covered": fair["people"],
        "underserved_population": fair["underserved"], "covered_share_pct": fair["share_pct"],
        "objective_value": round(solution.covered), "upper_bound": round(solution.upper_bound),
        "gap": round(solution.gap, 5), "top_decile_communes": fair["top_decile_communes"],
        "top_decile_reached": fair["top_decile_reached"], "top_decile_reached_pct": fair["top_decile_reached_pct"],
        "regions_underserved": fair["regions_underserved"], "regions_reached": fair["regions_reached"],
        "min_region_coverage_pct": fair["min_region_coverage_pct"], "n_units": len(solution.chosen),
    }


def coverage_figures(analysis: Analysis, demand: np.ndarray, candidates: np.ndarray,
                     solution: mclp.MclpSolution) -> dict:
    """Who a placement serves: people, each region's coverage, and how many of the most underserved it reaches.

    The most underserved communes are the top decile (rounded up) of the communes with underserved
    people, ranked by underservice index; a commune is reached when a unit serves some of its people.
    A region's coverage is the share of its underserved people that the units serve.
    """
    communes, under = analysis.communes, analysis.underserved
    served = np.zeros(len(communes))
    for i, _j, share in solution.assignment:
        served[demand[int(i)]] += under[demand[int(i)]] * share
    reached = served > 1e-6
    top = demand[np.argsort(-analysis.index[demand], kind="stable")[:math.ceil(len(demand) / 10)]]
    in_top = np.zeros(len(communes), dtype=bool)
    in_top[top] = True
    base_regions = communes.region[candidates[solution.chosen]].tolist()
    rows = []
    for code in sorted(set(communes.region)):
        mask = communes.region == code
        need = float(under[mask].sum())
        rows.append({"region": code, "underserved_population": round(need), "served": round(served[mask].sum()),
                     "coverage_pct": round(100 * served[mask].sum() / need, 1) if need else None,
                     "units": base_regions.count(code), "communes_reached": int((reached & mask).sum()),
                     "top_decile_communes": int((in_top & mask).sum()),
                     "top_decile_reached": int((in_top & reached & mask).sum())})
    needy = [r for r in rows if r["underserved_population"] > 0]
    total = float(under.sum())
    return {
        "people": round(served.sum()), "underserved": round(total),
        "share_pct": round(100 * served.sum() / total, 2) if total else 0.0, "regions": rows,
        "top_decile_communes": len(top), "top_decile_reached": int(reached[top].sum()),
        "top_decile_reached_pct": round(100 * reached[top].sum() / len(top), 1) if len(top) else None,
        "regions_underserved": len(needy), "regions_reached": sum(1 for r in needy if r["served"] > 0),
        "min_region_coverage_pct": min((r["coverage_pct"] for r in needy), default=None),
    }


def _units(params, analysis, solution, demand, candidates) -> list[dict]:
    communes = analysis.communes
    served: dict[int, dict[int, float]] = {}
    for i, j, share in solution.assignment:
        served.setdefault(int(j), {})[int(demand[int(i)])] = share
    units = []
    for k, j in enumerate(solution.chosen):
        base = int(candidates[j])
        members = sorted(served.get(int(j), {}).items())
        units.append({
            "number": k + 1, "base": communes.codes[base], "base_name": communes.names[base],
            "province": communes.province[base], "lat": float(communes.places.lat[base]),
            "lon": float(communes.places.lon[base]),
            "served_population": round(sum(analysis.underserved[c] * s for c, s in members)),
            "communes": [{"code": communes.codes[c], "name": communes.names[c], "share": round(s, 4),
                          "population": int(communes.population[c])} for c, s in members],
        })
    return units


def _plan_tours(params: Parameters, analysis: Analysis, units: list[dict], report) -> None:
    communes = analysis.communes
    position = {code: k for k, code in enumerate(communes.codes)}
    payload_units = []
    for unit in units:
        idx = np.array([position[c["code"]] for c in unit["communes"]], dtype=int)
        visits = visit_frequency(analysis.underserved[idx] * np.array([c["share"] for c in unit["communes"]]),
                                 analysis.index[idx], params.max_visits) if len(idx) else []
        for c, v in zip(unit["communes"], visits):
            c["visits"] = int(v)
        payload_units.append({"base": {"lat": unit["lat"], "lon": unit["lon"]},
                              "stops": [{"id": communes.codes[i], "lat": float(communes.places.lat[i]),
                                         "lon": float(communes.places.lon[i]), "visits": int(v)}
                                        for i, v in zip(idx, visits)]})
    options = {"days": len(params.dates()), "daily_km": params.daily_km, "speed_kmh": params.speed_kmh,
               "service_minutes": params.service_minutes, "day_minutes": params.day_minutes,
               "return_to_base": params.return_to_base, "detour_factor": params.detour_factor,
               "time_limit": params.tours_time_limit}
    # Units are independent: batches run side by side, one solver process per core.
    size = max(1, math.ceil(len(payload_units) / (2 * TOUR_WORKERS)))
    batches = [payload_units[k:k + size] for k in range(0, len(payload_units), size)]
    plans = []
    with ThreadPoolExecutor(max_workers=TOUR_WORKERS) as pool:
        futures = [pool.submit(run_in_subprocess, "tours", {"units": batch, "options": options},
                               timeout=60 + 2 * params.tours_time_limit * len(batch)) for batch in batches]
        for done, future in enumerate(futures, start=1):
            plans += future.result()["units"]
            report(0.6 + 0.4 * done / len(futures), _("Planning the tours"))
    for unit, tour in zip(units, plans):
        unit["tour"] = tour


def calendar_rows(results: dict) -> list[dict]:
    """The tours as a calendar: one row per unit, date and stop."""
    names = {c["code"]: c["name"] for c in results.get("communes", [])}
    rows = []
    for unit in results.get("units", []):
        for date, stops in zip(results["dates"], unit.get("tour", {}).get("days", [])):
            for order, code in enumerate(stops, start=1):
                rows.append({"unit": unit["number"], "base": unit["base"], "date": date, "order": order,
                             "commune": code, "commune_name": names.get(code, "")})
    return rows


def geojson(results: dict) -> dict:
    """Communes (points with their index), unit bases, catchment links and daily tour lines."""
    where = {c["code"]: (c["lon"], c["lat"]) for c in results.get("communes", [])}

    def feature(layer, geometry_type, coordinates, **props):
        return {"type": "Feature", "properties": {"layer": layer, **props},
                "geometry": {"type": geometry_type, "coordinates": coordinates}}

    features = [feature("commune", "Point", [c["lon"], c["lat"]], **c) for c in results.get("communes", [])]
    for unit in results.get("units", []):
        base = [unit["lon"], unit["lat"]]
        features.append(feature("base", "Point", base, unit=unit["number"], commune=unit["base"],
                                name=unit["base_name"], served_population=unit["served_population"]))
        for c in unit["communes"]:
            features.append(feature("catchment", "LineString", [base, list(where[c["code"]])], unit=unit["number"],
                                    commune=c["code"], share=c["share"]))
        tour = unit.get("tour", {})
        for date, stops, km in zip(results.get("dates", []), tour.get("days", []), tour.get("day_km", [])):
            if stops:
                line = [base] + [list(where[s]) for s in stops] + [base]
                features.append(feature("tour", "LineString", line, unit=unit["number"], date=date, km=km,
                                        stops=stops))
    return {"type": "FeatureCollection", "features": features}


def dumps(data) -> str:
    """JSON text for exports (UTF-8 names kept readable)."""
    return json.dumps(data, ensure_ascii=False)


def export_files(results: dict) -> dict[str, str]:
    """The files a run exports, by name: CSV tables and one GeoJSON."""
    return {
        "communes.csv": to_csv(results.get("communes", []), results.get("columns", {}).get("communes")),
        "provinces.csv": to_csv(results.get("provinces", []), results.get("columns", {}).get("provinces")),
        "units.csv": to_csv([{k: u[k] for k in UNIT_COLUMNS} | {
            "communes": len(u["communes"]), "tour_km": u.get("tour", {}).get("total_km"),
            "visits_not_placed": len(u.get("tour", {}).get("dropped", []))} for u in results.get("units", [])]),
        "calendar.csv": to_csv(calendar_rows(results)),
        "plan.geojson": dumps(geojson(results)),
    }
