"""Planning API: run scenarios, follow their progress, read their results, apply them; planned stops."""

import datetime
import uuid
from typing import Any, Optional

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from caravane.audit import gate
from caravane.core.access import Perm
from caravane.core.api import ERRORS, INPUT_ERRORS, BadInput, PageNumber
from caravane.planning.actions import ApplyRefused, do_apply_scenario, do_create_scenario
from caravane.planning.models import PlannedStop, Scenario
from caravane.planning.pipeline import ParameterError
from caravane.planning.selectors import run_state

router = Router(tags=["planning"])
VIEW, RUN, APPLY = Perm.VIEW_PLAN, Perm.RUN_PLAN, Perm.APPLY_PLAN


class ScenarioIn(Schema):
    name: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict,
                                       description="Parameters (see caravane.planning.pipeline.Parameters).")


class ScenarioOut(Schema):
    id: uuid.UUID
    name: str
    status: str
    progress: float
    progress_text: str
    error: str
    created_at: datetime.datetime
    applied_at: Optional[datetime.datetime]
    parameters: dict[str, Any]
    timings: dict[str, Any]
    summary: dict[str, Any] = Field(default_factory=dict)

    @staticmethod
    def resolve_summary(obj) -> dict:
        return (obj.results or {}).get("summary", {})

    @staticmethod
    def resolve_status(obj) -> str:
        """The run as the queue sees it: a run handed back or retried after its worker died is queued again."""
        return run_state(obj)[0]

    @staticmethod
    def resolve_progress_text(obj) -> str:
        return run_state(obj)[1]


class ScenarioDetailOut(ScenarioOut):
    inputs: dict[str, Any]
    units: list[dict[str, Any]] = Field(default_factory=list, description="Bases, catchments and tours.")
    provinces: list[dict[str, Any]] = Field(default_factory=list, description="Provinces ranked by need.")
    regions: list[dict[str, Any]] = Field(default_factory=list, description="Each region's coverage.")
    pure_coverage: dict[str, Any] = Field(default_factory=dict, description=(
        "The pure-coverage optimum with the same units (summary, regions, bases), to weigh fairness against."))

    @staticmethod
    def resolve_regions(obj) -> list:
        return (obj.results or {}).get("regions", [])

    @staticmethod
    def resolve_pure_coverage(obj) -> dict:
        return (obj.results or {}).get("pure_coverage", {})

    @staticmethod
    def resolve_units(obj) -> list:
        return (obj.results or {}).get("units", [])

    @staticmethod
    def resolve_provinces(obj) -> list:
        return (obj.results or {}).get("provinces", [])


class StopOut(Schema):
    id: uuid.UUID
    unit: uuid.UUID = Field(alias="unit_id")
    commune: str = Field(alias="commune_id")
    commune_name: str = Field(alias="commune.name_fr")
    date: datetime.date
    order: int
    status: str
    scenario: uuid.UUID = Field(alias="scenario_id")


class StopFilters(Schema):
    unit: Optional[uuid.UUID] = None
    date_from: Optional[datetime.date] = None
    date_to: Optional[datetime.date] = None


def _scenario(request, pk, perm: Perm = VIEW, action: str = "view") -> Scenario:
    return gate.get(request.user, Scenario.objects.all(), pk, perm, audit_action=f"planning.{action}_scenario")


def _bad_parameter(exc: Exception) -> BadInput:
    field, _, message = str(exc).partition(": ")
    return BadInput({field if message else "parameters": message or str(exc)})


@gate.before_input(VIEW, Scenario)
@router.get("/scenarios", response={200: list[ScenarioOut], **ERRORS}, summary="List scenarios")
@paginate(PageNumber)
def list_scenarios(request):
    """Saved scenarios, newest first."""
    return gate.restrict(request.user, Scenario.objects.all(), VIEW, target=("planning.scenario", "")).order_by(
        "-created_at")


@gate.before_input(RUN, Scenario)
@router.post("/scenarios", response={201: ScenarioOut, **ERRORS, **INPUT_ERRORS}, summary="Run a scenario")
def create_scenario(request, payload: ScenarioIn):
    """Save a scenario and queue its run (a worker runs it); poll ``/scenarios/{id}`` for progress."""
    gate.require(request.user, RUN, ("planning.scenario", ""))
    try:
        scenario = do_create_scenario(actor=request.user, name=payload.name, parameters=payload.parameters)
    except ParameterError as exc:
        raise _bad_parameter(exc) from exc
    return Status(201, scenario)


@gate.before_input(VIEW, Scenario, audit_action="planning.view_scenario")
@router.get("/scenarios/{uuid:pk}", response={200: ScenarioDetailOut, **ERRORS}, summary="Read a scenario")
def read_scenario(request, pk: uuid.UUID):
    """A scenario with its parameters, inputs, timings, units (bases, catchments, tours) and province ranking."""
    return _scenario(request, pk)


@gate.before_input(APPLY, Scenario, audit_action="planning.change_scenario")
@router.post("/scenarios/{uuid:pk}/apply", response={200: ScenarioOut, **ERRORS, **INPUT_ERRORS},
             summary="Apply a scenario")
def apply_scenario(request, pk: uuid.UUID):
    """Redeploy the units to the scenario's bases and create their planned stops."""
    scenario = _scenario(request, pk, APPLY, action="change")
    try:
        do_apply_scenario(actor=request.user, scenario=scenario)
    except ApplyRefused as exc:
        raise BadInput({"status": str(exc)}) from exc
    scenario.refresh_from_db()
    return scenario


@gate.before_input(VIEW, PlannedStop)
@router.get("/stops", response={200: list[StopOut], **ERRORS}, summary="Planned stops of mobile units")
@paginate(PageNumber)
def list_stops(request, filters: Query[StopFilters]):
    """Planned (not cancelled) stops of the units in the caller's scope, by date and order."""
    stops = gate.restrict(request.user, PlannedStop.objects.all(), VIEW, target=("planning.plannedstop", "")).filter(status=PlannedStop.Status.PLANNED)
    if filters.unit:
        stops = stops.filter(unit_id=filters.unit)
    if filters.date_from:
        stops = stops.filter(date__gte=filters.date_from)
    if filters.date_to:
        stops = stops.filter(date__lte=filters.date_to)
    return stops.select_related("commune").order_by("date", "unit_id", "order")
