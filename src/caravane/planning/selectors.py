"""Planning reads: scenarios for a user, comparisons, the commune shapes for the map, and a unit's planned days."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from caravane.core.access import Perm
from caravane.planning.models import FacilityImport, PlannedStop, Scenario
from caravane.tasks.registry import state

# About 1 km at Morocco's latitudes and a 0.001 degree grid: the country in a few hundred kB.
SIMPLIFY_DEGREES = 0.01
GRID_DEGREES = 0.001


def scenarios_for(user):
    """Scenarios the user may see, newest first."""
    return Scenario.objects.restrict(user, Perm.VIEW_PLAN).select_related("created_by").defer("results")


def run_state(scenario: Scenario) -> tuple[str, str, int | None]:
    """A scenario's run as its page shows it: status, progress text and, while it waits, its place in line.

    The queue is the truth for a run not yet finished: one handed back by a stopping worker, or queued again
    after its worker died, waits in line again, whatever its last progress said.
    """
    known = scenario.__dict__.get("_run_state")  # asked once per request (a list's rows, the API's fields)
    if known is not None:
        return known
    if scenario.finished or not scenario.task_id:
        known = scenario.status, scenario.progress_text, None
    else:
        task = state(scenario.task_id)
        if task is None or task.position is None:
            known = scenario.status, scenario.progress_text, None
        else:
            known = (Scenario.Status.QUEUED,
                     _("Waiting for a free planner: number %(position)d in line.") % {"position": task.position},
                     task.position)
    scenario.__dict__["_run_state"] = known
    return known


def with_run_states(scenarios) -> list[Scenario]:
    """The scenarios, each with ``run_status_label``: its run as the queue sees it (see run_state)."""
    scenarios = list(scenarios)
    for scenario in scenarios:
        scenario.run_status_label = Scenario.Status(run_state(scenario)[0]).label
    return scenarios


def facility_imports():
    """The facility lists imported so far."""
    return FacilityImport.objects.order_by("-created_at")


def region_names() -> dict[str, str]:
    """Region names by code, in the reader's language."""
    from caravane.geo.models import Region

    return {r.code: r.localized_name for r in Region.objects.all()}


def region_rows(results: dict, names: dict[str, str]) -> list[dict]:
    """Each region's coverage in a scenario beside the pure-coverage optimum's (regions with underserved people)."""
    pure = {r["region"]: r for r in results.get("pure_coverage", {}).get("regions", [])}
    return [{**row, "name": names.get(row["region"], row["region"]), "pure": pure.get(row["region"], {})}
            for row in results.get("regions", []) if row["underserved_population"]]


def compare(a: Scenario, b: Scenario) -> dict:
    """Side-by-side figures of two scenarios, the parameters that differ, and the bases only one of them uses."""
    from caravane.planning import labels

    sa, sb = a.results.get("summary", {}), b.results.get("summary", {})
    bases_a = {u["base"]: u["base_name"] for u in a.results.get("units", [])}
    bases_b = {u["base"]: u["base_name"] for u in b.results.get("units", [])}
    names = region_names()
    return {
        "rows": labels.figure_rows(sa, sb)
        + [(str(label), [a.timings.get(k, "—"), b.timings.get(k, "—")]) for k, label in labels.TIMINGS.items()],
        "only_a": sorted(bases_a[c] for c in set(bases_a) - set(bases_b)),
        "only_b": sorted(bases_b[c] for c in set(bases_b) - set(bases_a)),
        "parameters": [(labels.parameter_label(k), labels.parameter_value(k, a.parameters.get(k), names),
                        labels.parameter_value(k, b.parameters.get(k), names))
                       for k in a.parameters if a.parameters.get(k) != b.parameters.get(k)],
    }


@dataclass
class UnitMove:
    """One mobile unit and the base a scenario gives it (``moves``: whether that changes its base)."""

    unit: object
    current: object  # the base commune in force today, or None
    planned: object  # the scenario's base commune
    plan: dict

    @property
    def moves(self) -> bool:
        return self.current is None or self.current.pk != self.planned.pk


def unit_moves(user, scenario: Scenario) -> list[UnitMove]:
    """Which of the user's mobile units would take each of the scenario's bases.

    A unit already based at a planned base keeps it; the other bases go to the nearest remaining
    units (closest pair first), so that applying moves as few units as little as possible.
    Raises ``ValueError`` when the user may move fewer active units than the scenario places.
    """
    from caravane.geo.models import Commune
    from caravane.network.models import Site
    from caravane.network.selectors import current_deployments
    from caravane.planning.geodesy import great_circle_km

    planned = scenario.results.get("units", [])
    units = list(Site.objects.restrict(user, Perm.CHANGE_SITE).filter(kind=Site.Kind.MOBILE_UNIT, active=True)
                 .select_related("commune").order_by("code"))
    if len(units) < len(planned):
        raise ValueError(_("The scenario places %(n)d units but you may move %(m)d active mobile units.") % {
            "n": len(planned), "m": len(units)})
    bases = Commune.objects.select_related("province").in_bulk([u["base"] for u in planned])
    deployed = current_deployments([u.pk for u in units])
    current = {u.pk: deployed[u.pk].base_commune if u.pk in deployed else None for u in units}
    free, open_plans, moves = list(units), [], []
    for plan in planned:
        keeper = next((u for u in free if current[u.pk] is not None and current[u.pk].pk == plan["base"]), None)
        if keeper is None:
            open_plans.append(plan)
        else:
            free.remove(keeper)
            moves.append(UnitMove(keeper, current[keeper.pk], bases[plan["base"]], plan))
    km = great_circle_km([u.commune.centroid_lat for u in free], [u.commune.centroid_lon for u in free],
                         [p["lat"] for p in open_plans], [p["lon"] for p in open_plans])
    pairs = sorted((float(km[n, k]), k, n) for k in range(len(open_plans)) for n in range(len(free)))
    taken_plans, taken_units = set(), set()
    for _km, k, n in pairs:
        if k not in taken_plans and n not in taken_units:
            taken_plans.add(k)
            taken_units.add(n)
            unit = free[n]
            moves.append(UnitMove(unit, current[unit.pk], bases[open_plans[k]["base"]], open_plans[k]))
    return sorted(moves, key=lambda m: m.plan["number"])


def facility_features(care_kinds) -> list[dict]:
    """The facilities that count as care in a run, as GeoJSON points (layer "facility")."""
    from caravane.planning.pipeline import load_facilities

    table, _ = load_facilities()
    return [{"type": "Feature", "properties": {"layer": "facility", "name": name, "kind": kind},
             "geometry": {"type": "Point", "coordinates": [round(float(lon), 4), round(float(lat), 4)]}}
            for name, kind, lat, lon in zip(table.names, table.kinds, table.places.lat, table.places.lon)
            if kind in care_kinds]


def commune_shapes() -> dict:
    """Simplified commune polygons (GeoJSON with the code only), cached until the geography changes."""
    import shapely
    from shapely.geometry import mapping, shape

    from caravane.geo.models import Commune

    stats = Commune.objects.aggregate(n=Count("code"), last=Max("code"))
    key = f"caravane:planning:communes:{stats['n']}:{stats['last']}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    features = []
    for code, geometry in Commune.objects.order_by("code").values_list("code", "geometry").iterator():
        if not geometry:
            continue
        geom = shapely.set_precision(shape(geometry).simplify(SIMPLIFY_DEGREES), GRID_DEGREES)
        if not geom.is_empty:
            features.append({"type": "Feature", "properties": {"code": code}, "geometry": mapping(geom)})
    data = {"type": "FeatureCollection", "features": features}
    cache.set(key, data, 24 * 3600)
    return data


def planned_stop_days(unit, start: datetime.date, horizon_days: int) -> list[datetime.date]:
    """The days the unit is planned to hold a stop (applied plan, not cancelled) from ``start`` over the horizon."""
    end = start + datetime.timedelta(days=horizon_days)
    return list(PlannedStop.objects.filter(unit=unit, status=PlannedStop.Status.PLANNED, date__gte=start,
                                           date__lt=end).order_by("date").values_list("date", flat=True).distinct())
