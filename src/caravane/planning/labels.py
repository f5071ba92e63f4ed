"""What the planning pages call each parameter and figure, in the reader's language, and how values read."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caravane.planning.forms import REGIONAL_MINIMUMS, SOLVERS, ScenarioForm
from caravane.planning.models import FacilityKind

# Parameters the form does not show (set through the API or `caravane plan`).
MORE_PARAMETERS = {
    "thresholds_km": gettext_lazy("Distance bands reported (road km)"),
    "speed_kmh": gettext_lazy("Average speed (km/h)"),
    "service_minutes": gettext_lazy("Time at each stop (minutes)"),
    "day_minutes": gettext_lazy("Working day (minutes)"),
    "max_visits": gettext_lazy("Most visits to one commune over the horizon"),
    "detour_factor": gettext_lazy("Road detour factor (road km per straight-line km)"),
    "tours": gettext_lazy("Plan the tours"),
    "tours_time_limit": gettext_lazy("Time limit per unit's tours (s)"),
    "start_date": gettext_lazy("First day of the tours"),
}
# Headline figures of a placement, in the order the pages show them.
FIGURES = {
    "covered": gettext_lazy("People served"),
    "covered_share_pct": gettext_lazy("Share of the underserved people served (%)"),
    "regions_reached": gettext_lazy("Regions with underserved communes reached"),
    "min_region_coverage_pct": gettext_lazy("Lowest coverage of a region (%)"),
    "top_decile_reached_pct": gettext_lazy("Most underserved communes reached (%)"),
    "objective_value": gettext_lazy("Objective (people weighted as the model counts them)"),
    "upper_bound": gettext_lazy("Upper bound on the objective"),
    "gap": gettext_lazy("Gap to the bound (%)"),
    "n_units": gettext_lazy("Units"),
    "tour_km": gettext_lazy("Tour kilometres over the horizon"),
}
TIMINGS = {"analysis": gettext_lazy("Analysis (s)"), "placement": gettext_lazy("Placement (s)"),
           "tours": gettext_lazy("Tours (s)"), "total": gettext_lazy("Total time (s)")}
STATUSES = {"optimal": gettext_lazy("optimal for this model"), "feasible": gettext_lazy("feasible, not proven optimal")}


def parameter_label(name: str) -> str:
    """The label of a scenario parameter (the form's, else the list above, else the name itself)."""
    field = ScenarioForm.base_fields.get(name)
    return str(field.label if field else MORE_PARAMETERS.get(name, name))


def parameter_value(name: str, value, regions: dict) -> str:
    """A parameter's value as a reader understands it (names, not codes; yes/no; "no limit")."""
    choices = {"solver": dict(SOLVERS), "regional_minimum": dict(REGIONAL_MINIMUMS)}
    if name == "regions":
        return " · ".join(regions.get(code, code) for code in value) or _("All of Morocco")
    if name == "care_kinds":
        return " · ".join(kind_label(kind) for kind in value)
    if name in choices:
        return str(choices[name].get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return _("No limit")
    if isinstance(value, list):
        return " · ".join(_number(v) for v in value)
    if isinstance(value, (int, float)):
        return _number(value)
    return str(value)


def _number(value) -> str:
    """A number in the reader's format, without a needless ",0"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return number_format(value, force_grouping=True)


def kind_label(kind: str) -> str:
    """A facility kind's name (the code itself for a kind this version does not know)."""
    return str(FacilityKind(kind).label) if kind in FacilityKind.values else kind


def parameter_rows(parameters: dict, regions: dict) -> list[tuple[str, str]]:
    """(label, value) for each parameter of a scenario."""
    return [(parameter_label(k), parameter_value(k, v, regions)) for k, v in parameters.items()]


def figure(name: str, summary: dict) -> str:
    """A headline figure of a placement's summary for display (grouped numbers, the gap in %, "12 / 12")."""
    value = summary.get(name)
    if value is None:
        return "—"
    if name == "gap":
        return number_format(round(100 * value, 2))
    if name == "regions_reached":
        return f"{value} / {summary.get('regions_underserved', '—')}"
    return number_format(value, force_grouping=True)


def figure_rows(*summaries: dict) -> list[tuple[str, list[str]]]:
    """(label, [value in each summary]) for every headline figure."""
    return [(str(label), [figure(name, s) for s in summaries]) for name, label in FIGURES.items()
            if any(name in s for s in summaries)]


def status(summary: dict) -> str:
    """The solver's status in words ("optimal for this model"), as the solver reported it."""
    value = summary.get("status", "")
    return str(STATUSES.get(value, value))
