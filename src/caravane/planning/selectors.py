"""Planning reads: scenarios for a user, comparisons, and the commune shapes for the map."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from caravane.core.access import Perm
from caravane.planning.models import FacilityImport, Scenario
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


def compare(a: Scenario, b: Scenario) -> dict:
    """Side-by-side figures of two scenarios, and the bases only one of them uses."""
    keys = ("covered", "upper_bound", "gap", "covered_share_pct", "n_units", "tour_km")
    sa, sb = a.results.get("summary", {}), b.results.get("summary", {})
    bases_a = {u["base"]: u["base_name"] for u in a.results.get("units", [])}
    bases_b = {u["base"]: u["base_name"] for u in b.results.get("units", [])}
    return {
        "rows": [(key, sa.get(key), sb.get(key)) for key in keys]
        + [(f"{k} s", a.timings.get(k), b.timings.get(k)) for k in ("placement", "tours", "total")],
        "only_a": sorted(bases_a[c] for c in set(bases_a) - set(bases_b)),
        "only_b": sorted(bases_b[c] for c in set(bases_b) - set(bases_a)),
        "parameters": [(k, a.parameters.get(k), b.parameters.get(k)) for k in sorted(a.parameters)
                       if a.parameters.get(k) != b.parameters.get(k)],
    }


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
