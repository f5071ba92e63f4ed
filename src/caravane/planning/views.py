"""Planning pages: scenarios (parameters, progress, map, tables, apply), exports and facility imports."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caravane.audit import gate
from caravane.core.access import Perm
from caravane.planning import labels, selectors
from caravane.planning.actions import ApplyRefused, do_apply_scenario, do_create_scenario, do_import_facilities
from caravane.planning.facilities import ImportRefused
from caravane.planning.forms import FacilityImportForm, ScenarioForm
from caravane.planning.models import Scenario
from caravane.planning.pipeline import ParameterError, export_files, geojson

VIEW, RUN, APPLY = Perm.VIEW_PLAN, Perm.RUN_PLAN, Perm.APPLY_PLAN
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


def _scenario(request, pk, perm: Perm = VIEW, action: str = "view"):
    return gate.get(request.user, Scenario.objects.all(), pk, perm, audit_action=f"planning.{action}_scenario")


@login_required
def scenario_list(request):
    """Saved scenarios, the form to run a new one and the facility lists."""
    gate.require(request.user, VIEW, ("planning.scenario", ""), audit_action="planning.list_scenarios")
    form = ScenarioForm(request.POST or None)
    if request.method == "POST":
        gate.require(request.user, RUN, ("planning.scenario", ""), audit_action="planning.create_scenario")
        if form.is_valid():
            try:
                scenario = do_create_scenario(actor=request.user, name=form.cleaned_data["name"],
                                              parameters=form.parameters())
            except ParameterError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("planning:scenario_detail", pk=scenario.pk)
    return render(request, "planning/scenario_list.html", {
        "form": form, "scenarios": selectors.with_run_states(selectors.scenarios_for(request.user)[:50]),
        "imports": selectors.facility_imports()[:10], "import_form": FacilityImportForm(),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def facility_import(request):
    """Import an uploaded facility list and show what was kept and rejected."""
    gate.require(request.user, RUN, ("planning.facility", ""), audit_action="planning.import_facilities")
    form = FacilityImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = do_import_facilities(actor=request.user, source=form.cleaned_data["source"],
                                         content=upload.read(), filename=upload.name)
        except (ImportRefused, ValueError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(n)d facilities imported, %(r)d rows rejected.") % {
                "n": batch.accepted, "r": len(batch.rejected)})
            return render(request, "planning/import_report.html", {"batch": batch})
    else:
        messages.error(request, _("Choose a list name and a file."))
    return redirect("planning:scenario_list")


@login_required
@require_GET
def scenario_detail(request, pk):
    """One scenario: progress while it runs, then its map, tables and downloads."""
    scenario = _scenario(request, pk)
    others = selectors.scenarios_for(request.user).exclude(pk=scenario.pk).filter(
        status__in=[Scenario.Status.DONE, Scenario.Status.APPLIED])[:20]
    results = scenario.results or {}
    summary = results.get("summary", {})
    pure = results.get("pure_coverage", {}).get("summary", {})
    status, text, _position = selectors.run_state(scenario)
    names = selectors.region_names()
    return render(request, "planning/scenario_detail.html", {
        "scenario": scenario, "run_status": Scenario.Status(status).label, "run_text": text, "summary": summary,
        "solver_status": labels.status(summary), "pure_status": labels.status(pure),
        "figures": labels.figure_rows(summary, pure),
        "regions": selectors.region_rows(results, names),
        "parameters": labels.parameter_rows(scenario.parameters, names),
        "timings": [(str(labels.TIMINGS.get(k, k)), v) for k, v in scenario.timings.items()],
        "facility_kinds": [(labels.kind_label(k), n) for k, n in scenario.inputs.get("facilities", {}).items()],
        "units": results.get("units", []), "provinces": results.get("provinces", [])[:30], "others": others,
        "may_apply": request.user.has_perm(APPLY) and scenario.status == Scenario.Status.DONE,
    })


@login_required
@require_GET
def scenario_progress(request, pk):
    """The run's progress, polled by the scenario page (a grant leaves no row: the page's opening did)."""
    scenario = gate.restrict(request.user, Scenario.objects.all(), VIEW, target=("planning.scenario", str(pk)),
                             audit_action="planning.view_scenario", quiet=True).filter(pk=pk).only(
        "status", "progress", "progress_text", "error", "task_id").first()
    if scenario is None:
        raise Http404
    status, text, position = selectors.run_state(scenario)
    return JsonResponse({"status": status, "status_display": Scenario.Status(status).label, "position": position,
                         "progress": scenario.progress, "text": text, "error": scenario.error,
                         "finished": scenario.finished})


@login_required
@require_GET
def scenario_map(request, pk):
    """The scenario's layers as GeoJSON (communes with their index, care facilities, bases, catchments, tours)."""
    scenario = _scenario(request, pk)
    data = geojson(scenario.results or {})
    data["features"] += selectors.facility_features(scenario.parameters.get("care_kinds", []))
    return JsonResponse(data)


@login_required
@require_GET
def commune_shapes(request):
    """Commune polygons for shading by index (our own geometry; no map tiles)."""
    gate.require(request.user, VIEW, ("geo.commune", ""), audit_action="planning.view_map")
    response = JsonResponse(selectors.commune_shapes())
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_GET
def scenario_export(request, pk, filename):
    """One export of a scenario (CSV table or GeoJSON) as a download."""
    scenario = _scenario(request, pk)
    files = export_files(scenario.results or {})
    if filename not in files:
        raise Http404
    response = HttpResponse(files[filename], content_type=CONTENT_TYPES[filename.rsplit(".", 1)[1]])
    response["Content-Disposition"] = f'attachment; filename="{scenario.pk}-{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def scenario_apply(request, pk):
    """Confirm, then apply a scenario: the units whose base changes move there (the network's deployment action)
    and every unit's stops are planned; the page lists the moves first and applies only on the confirming POST."""
    scenario = _scenario(request, pk, APPLY, action="change" if request.method == "POST" else "confirm_apply")
    if scenario.status != Scenario.Status.DONE:
        messages.error(request, _("Only a finished scenario that has not been applied can be applied."))
        return redirect("planning:scenario_detail", pk=scenario.pk)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        try:
            deployments = do_apply_scenario(actor=request.user, scenario=scenario)
        except ApplyRefused as exc:
            messages.error(request, str(exc))
            return redirect("planning:scenario_detail", pk=scenario.pk)
        messages.success(request, _("Scenario applied: %(n)d units redeployed.") % {"n": len(deployments)})
        return redirect("mobile_units")
    try:
        moves = selectors.unit_moves(request.user, scenario)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("planning:scenario_detail", pk=scenario.pk)
    dates = scenario.results.get("dates", [])
    return render(request, "planning/scenario_apply.html", {
        "scenario": scenario, "moves": moves, "moved": sum(m.moves for m in moves), "today": timezone.localdate(),
        "first_day": datetime.date.fromisoformat(dates[0]) if dates else None,
    })


@login_required
@require_GET
def scenario_compare(request, pk, other):
    """Two scenarios side by side."""
    a, b = _scenario(request, pk), _scenario(request, other)
    return render(request, "planning/scenario_compare.html", {"a": a, "b": b, "cmp": selectors.compare(a, b)})
