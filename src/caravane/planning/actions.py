"""Planning state changes: importing facility lists, creating, finishing and applying scenarios."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.audit.models import AuditEvent
from caravane.core.access import Perm
from caravane.core.events import publish_on_commit
from caravane.planning import runner, selectors
from caravane.planning.facilities import morocco_test, parse_facilities
from caravane.planning.models import Facility, FacilityImport, PlannedStop, Scenario
from caravane.planning.pipeline import Parameters
from caravane.tasks.registry import background_task, enqueue

GROUP = "planning"


class ApplyRefused(ValueError):
    """The scenario cannot be applied as it stands; the message says why."""


def _require(actor, perm: Perm, action: str, target=None) -> None:
    if actor is not None:
        gate.require(actor, perm, target, in_scope=True, audit_action=action)


def do_import_facilities(*, actor, source: str, content: str | bytes, filename: str = "") -> FacilityImport:
    """Import a facility list (CSV or GeoJSON), replacing the previous list of the same source."""
    from caravane.geo.models import Commune

    _require(actor, Perm.RUN_PLAN, "planning.import_facilities")
    source = (source or "").strip()
    if not source:
        raise ValueError("source: " + _("name the facility list."))
    parsed = parse_facilities(content, filename=filename, inside=morocco_test(Commune.objects.only("geometry")))
    with transaction.atomic(durable=True):
        FacilityImport.objects.filter(source=source).delete()
        batch = FacilityImport.objects.create(
            source=source[:80], filename=filename[:200], file_format=parsed.file_format,
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
            accepted=len(parsed.rows), rejected=parsed.rejected)
        Facility.objects.bulk_create([
            Facility(source_import=batch, name=r["name"], kind=r["kind"], latitude=r["lat"], longitude=r["lon"],
                     external_id=r["external_id"]) for r in parsed.rows], batch_size=1000)
        do_record_audit(actor=actor, action="planning.import_facilities", target=batch,
                        detail={"source": source, "accepted": batch.accepted, "rejected": len(parsed.rejected)})
    return batch


def do_create_scenario(*, actor, name: str, parameters: dict) -> Scenario:
    """Save a new scenario with validated parameters and queue its run, in one transaction (a worker runs it)."""
    _require(actor, Perm.RUN_PLAN, "planning.create_scenario")
    params = Parameters.from_dict(parameters)
    with transaction.atomic(durable=True):
        scenario = Scenario.objects.create(
            name=(name or "").strip()[:120] or _("Scenario of %(day)s") % {"day": timezone.localdate().isoformat()},
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            parameters=params.to_dict())
        scenario.task_id = enqueue(run_scenario, str(scenario.pk))
        scenario.save(update_fields=["task_id"])
        do_record_audit(actor=actor, action="planning.create_scenario", target=scenario,
                        detail={"n_units": params.n_units, "solver": params.solver})
    return scenario


def do_finish_scenario(*, scenario: Scenario, outcome: dict | None = None, error: str = "") -> Scenario:
    """Store a run's results (or its error) and mark the scenario done (or failed)."""
    with transaction.atomic(durable=True):
        scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
        if outcome is not None:
            scenario.inputs, scenario.results, scenario.timings = (outcome["inputs"], outcome["results"],
                                                                   outcome["timings"])
            scenario.status, scenario.progress, scenario.progress_text = Scenario.Status.DONE, 1.0, ""
        else:
            scenario.status, scenario.error = Scenario.Status.FAILED, error[:4000]
        scenario.save()
        do_record_audit(actor=scenario.created_by, action="planning.finish_scenario", target=scenario,
                        outcome=AuditEvent.Outcome.ALLOWED if outcome is not None else AuditEvent.Outcome.FAILED,
                        detail={"status": scenario.status, "timings": scenario.timings})
        publish_on_commit(GROUP, "scenario.finished", {"id": str(scenario.pk), "status": scenario.status})
    return scenario


# Background half of a scenario: the worker runs these (caravane.tasks); at most CARAVANE_PLANNING_CONCURRENCY
# runs at once (PlanningConfig.ready limits the queue).

@background_task()
def scenario_failed(error: str, scenario_id: str) -> None:
    """A scenario's run could not end by itself (its worker was lost too often, or it crashed): say so on it."""
    scenario = Scenario.objects.filter(pk=scenario_id).first()
    if scenario is not None and not scenario.finished:
        do_finish_scenario(scenario=scenario, error=_("The run could not finish: %(error)s") % {"error": error})


@background_task(queue=runner.QUEUE, max_attempts=2, on_failure=scenario_failed, takes_context=True)
def run_scenario(context, scenario_id: str) -> str:
    """Run a queued scenario and store its results or its error (again after an interrupted attempt)."""
    scenario = Scenario.objects.filter(pk=scenario_id).first()
    if scenario is None or scenario.finished:  # an earlier attempt finished it before its worker stopped
        return scenario.status if scenario else "missing"
    outcome, error = runner.execute(scenario, restarted=context.attempt > 1)
    return do_finish_scenario(scenario=scenario, outcome=outcome, error=error).status


def do_apply_scenario(*, actor, scenario: Scenario, effective_date: datetime.date | None = None) -> list:
    """Move each unit whose base changes to its planned base through the network's deployment action (its
    commune and scope follow), and plan every unit's stops, all in one transaction; effective today by default,
    so the mobile units' page shows the new bases at once."""
    from caravane.geo.models import Commune
    from caravane.network.actions import do_deploy_mobile_unit

    _require(actor, Perm.APPLY_PLAN, "planning.apply_scenario", scenario)
    if scenario.status != Scenario.Status.DONE:
        raise ApplyRefused(_("Only a finished scenario that has not been applied can be applied."))
    try:
        moves = selectors.unit_moves(actor, scenario)
    except ValueError as exc:
        raise ApplyRefused(str(exc)) from exc
    dates = [datetime.date.fromisoformat(d) for d in scenario.results.get("dates", [])]
    effective = effective_date or timezone.localdate()
    communes = Commune.objects.in_bulk([code for m in moves for day in m.plan.get("tour", {}).get("days", [])
                                        for code in day])
    deployments, stops = [], []
    with transaction.atomic(durable=True):
        for move in moves:
            if move.moves:
                deployments.append(do_deploy_mobile_unit(
                    actor=actor, unit=move.unit, province=move.planned.province, base_commune=move.planned,
                    start_date=effective, note=(_("Scenario %(name)s") % {"name": scenario.name})[:240],
                    supersede_later=True))
            PlannedStop.objects.filter(unit=move.unit, date__gte=effective,
                                       status=PlannedStop.Status.PLANNED).update(status=PlannedStop.Status.CANCELLED)
            for day, codes in zip(dates, move.plan.get("tour", {}).get("days", [])):
                stops += [PlannedStop(scenario=scenario, unit=move.unit, commune=communes[code], date=day, order=k)
                          for k, code in enumerate(codes, start=1) if day >= effective]
        PlannedStop.objects.bulk_create(stops, batch_size=1000)
        scenario.status, scenario.applied_at, scenario.applied_by = Scenario.Status.APPLIED, timezone.now(), actor
        scenario.save(update_fields=["status", "applied_at", "applied_by", "updated_at"])
        do_record_audit(actor=actor, action="planning.apply_scenario", target=scenario,
                        detail={"units": len(moves), "moved": len(deployments), "stops": len(stops),
                                "effective": effective.isoformat()})
        publish_on_commit(GROUP, "scenario.applied", {"id": str(scenario.pk), "units": len(deployments)})
    return deployments
