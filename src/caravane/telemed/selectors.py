"""Reads of telemedicine acts: worklists, an act's file, the patient's reports, coordinators' indicators."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils import timezone

from caravane.core.access import Perm, Role, scope_of
from caravane.network.models import Site
from caravane.telemed import routing_rules, sla
from caravane.telemed.models import (
    AWAITING_ANSWER, OPEN_STATUSES, Appointment, Communication, DiagnosticReport, ServiceRequest, Slot, Status, StatusTransition,
)


def visible_acts(user, perm: Perm = Perm.VIEW_ACT):
    """The acts on which a user holds ``perm``: the one scoped entry point of every list."""
    return ServiceRequest.objects.restrict(user, perm)


# --- The specialist's worklist ------------------------------------------------------------------------------

# What a worklist row shows: the act, and the names of its patient, site and people.
_ACT_ROW = ("kind", "status", "priority", "rank", "question", "complex_case", "requested_at", "due_at",
            "first_answered_at", "accepted_at", "scheduled_at", "started_at", "hub_id", "specialty_id",
            "requesting_site_id", "requester_id", "assignee_id", "patient_id", "patient_ready_at")
_RELATED_ROWS = {
    "patient": ("record_number", "given_name", "family_name", "given_name_ar", "family_name_ar", "gender",
                "birth_date", "birth_date_is_estimated"),
    "requesting_site": ("code", "name", "name_ar", "kind"),
    "requester": ("first_name", "last_name", "first_name_ar", "last_name_ar", "role"),
    "assignee": ("first_name", "last_name", "first_name_ar", "last_name_ar", "role"),
    "specialty": ("name_fr", "name_ar", "name_en"),
}
WORKLIST_FIELDS = _ACT_ROW + tuple(f"{relation}__{name}" for relation, names in _RELATED_ROWS.items()
                                   for name in names)


@dataclass
class WorklistEntry:
    act: ServiceRequest
    timer: sla.Timer
    waiting_minutes: int


def worklist(user, *, hub, specialty, statuses=OPEN_STATUSES, limit: int = 100,
             now: datetime.datetime | None = None, whole_acts: bool = False) -> list[WorklistEntry]:
    """The open acts of a hub in a specialty, most urgent first then longest waiting, with their SLA timers.

    The page reads only the columns its rows show; ``whole_acts`` reads every column of each act (the API's
    ServiceRequest), which would otherwise cost a query per deferred field per act.
    """
    now = now or timezone.now()
    hub_id = hub.pk if isinstance(hub, Site) else hub
    specialty_id = getattr(specialty, "pk", specialty)
    # The page is chosen on the worklist index alone (a subquery with its limit); only its rows are joined.
    page = (visible_acts(user).filter(hub_id=hub_id, specialty_id=specialty_id, status__in=list(statuses))
            .order_by("rank", "requested_at").values("pk")[:limit])
    acts = ServiceRequest.objects.filter(pk__in=page).select_related(*_RELATED_ROWS).order_by("rank", "requested_at")
    if not whole_acts:
        acts = acts.only(*WORKLIST_FIELDS)
    return [WorklistEntry(act, sla.timer(act, now), int((now - act.requested_at).total_seconds() // 60))
            for act in acts]


def worklists_of(user) -> list[tuple[Site, str]]:
    """The (hub, specialty) pairs whose worklist a specialist works on: their current hubs, their specialty."""
    staff = getattr(user, "staff", None)
    if staff is None or staff.role != Role.SPECIALIST or not staff.specialty_id:
        return []
    hubs = Site.objects.restrict(user, Perm.VIEW_ACT).filter(kind__in=Site.HUB_KINDS).order_by("name")
    return [(hub, staff.specialty_id) for hub in hubs]


def site_requests(user, site, *, limit: int = 100):
    """A requesting site's acts, newest first."""
    return (visible_acts(user).filter(requesting_site=site)
            .select_related("patient", "hub", "specialty", "requester").order_by("-requested_at")[:limit])


# --- One act ------------------------------------------------------------------------------------------------

def act_detail(act: ServiceRequest) -> ServiceRequest:
    """An act (whose reading was authorised) with everything its page shows loaded."""
    return (ServiceRequest.objects.select_related(
        "patient", "encounter", "consent", "requesting_site", "requester", "specialty", "hub", "assignee")
        .prefetch_related(
            Prefetch("transitions", queryset=StatusTransition.objects.select_related("actor")),
            Prefetch("communications", queryset=Communication.objects.select_related("sender")
                     .prefetch_related("attachments")),
            Prefetch("appointments", queryset=Appointment.objects.select_related("specialist")),
            "attachments", "participants__staff", "incidents")
        .get(pk=act.pk))


def route_explained(act: ServiceRequest) -> list[dict]:
    """The act's routing steps, each with its reason as a sentence in the current language."""
    name = specialty_name(act.specialty)
    return [{**step, "explanation": routing_rules.explain(step, name)} for step in act.route]


def specialty_name(specialty) -> str:
    """A specialty's name in the current language."""
    from django.utils.translation import get_language

    language = (get_language() or "fr")[:2]
    return getattr(specialty, f"name_{language}", None) or specialty.name_fr


def supporting_information(act: ServiceRequest) -> dict:
    """The visit's vital signs and notes the request links to (read from the visit, never copied)."""
    from caravane.care import vitals

    encounter = act.encounter
    if encounter is None:
        return {"observations": [], "note": {}}
    return {
        "observations": vitals.in_sign_order(encounter.observations.all()),
        "note": {name: getattr(encounter, name) for name in ("reason", "history", "examination", "assessment", "plan")},
    }


def thread(act: ServiceRequest) -> list[tuple[Communication, int]]:
    """The act's conversation in reading order, each message with its depth (replies under what they answer)."""
    if "communications" in getattr(act, "_prefetched_objects_cache", {}):
        messages = list(act.communications.all())  # loaded with the act's page (act_detail), senders and files too
    else:
        messages = list(act.communications.select_related("sender").prefetch_related("attachments"))
    children: dict = {}
    for message in messages:
        children.setdefault(message.in_response_to_id, []).append(message)
    ordered: list[tuple[Communication, int]] = []

    def walk(parent_id, depth):
        for message in children.get(parent_id, []):
            ordered.append((message, depth))
            walk(message.pk, depth + 1)

    walk(None, 0)
    return ordered


def bookable_slots(act: ServiceRequest, *, now: datetime.datetime | None = None, limit: int = 50):
    """Free future slots of the act's hub in its specialty, soonest first."""
    now = now or timezone.now()
    return (Slot.objects.filter(hub_id=act.hub_id, specialty_id=act.specialty_id, active=True, end__gt=now)
            .exclude(appointments__status=Appointment.Status.BOOKED)
            .select_related("specialist").order_by("start")[:limit])


def roster(staff, *, since: datetime.datetime | None = None):
    """A specialist's slots from ``since`` (now), with their bookings."""
    since = since or timezone.now()
    return (Slot.objects.filter(specialist=staff, end__gt=since).select_related("hub")
            .prefetch_related(Prefetch("appointments", queryset=Appointment.objects.filter(
                status=Appointment.Status.BOOKED).select_related("act__requesting_site")))
            .order_by("start"))


# --- The patient's chart -------------------------------------------------------------------------------------

def chart_reports(patient) -> list[DiagnosticReport]:
    """The signed telemedicine reports of a patient (merged records included), for the chart's timeline.

    Only for a chart whose opening was authorised: the chart is whole.
    """
    from caravane.patients.selectors import linked_record_ids

    return list(DiagnosticReport.objects.filter(patient_id__in=linked_record_ids(patient), signed_at__isnull=False)
                .select_related("act__specialty", "act__hub", "act__requesting_site", "signed_by")
                .prefetch_related("amendments__author").order_by("-signed_at"))


def chart_timeline_entries(patient) -> list[tuple[datetime.datetime, DiagnosticReport]]:
    """The chart timeline's entries for the patient's signed reports: (signed at, report)."""
    return [(report.signed_at, report) for report in chart_reports(patient)]


# --- Indicators ------------------------------------------------------------------------------------------------

def _percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Indicator:
    hub_id: str
    hub_name: str
    specialty_id: str
    requests: int = 0
    answered: int = 0
    reported: int = 0
    breaches: int = 0
    declines: int = 0
    escalations: int = 0
    expired: int = 0
    first_answer_minutes: list = field(default_factory=list, repr=False)
    report_minutes: list = field(default_factory=list, repr=False)

    @property
    def first_answer_median(self):
        return _percentile(self.first_answer_minutes, 0.5)

    @property
    def first_answer_p90(self):
        return _percentile(self.first_answer_minutes, 0.9)

    @property
    def report_median(self):
        return _percentile(self.report_minutes, 0.5)

    @property
    def report_p90(self):
        return _percentile(self.report_minutes, 0.9)

    def as_dict(self) -> dict:
        return {
            "hub": self.hub_id, "hub_name": self.hub_name, "specialty": self.specialty_id,
            "requests": self.requests, "answered": self.answered, "reported": self.reported,
            "breaches": self.breaches, "declines": self.declines, "escalations": self.escalations,
            "expired": self.expired,
            "first_answer_minutes_median": self.first_answer_median, "first_answer_minutes_p90": self.first_answer_p90,
            "report_minutes_median": self.report_median, "report_minutes_p90": self.report_p90,
        }


def indicators(user, *, since: datetime.datetime | None = None, until: datetime.datetime | None = None,
               now: datetime.datetime | None = None) -> list[Indicator]:
    """Per hub and specialty: requests, time to first answer and to report (median, p90), breaches, declines,
    escalations, over the acts requested in [since, until) that the user may see.

    An act counts for the hub holding it now; declines and escalations count for the hub that made them
    (read from the transitions table).
    """
    now = now or timezone.now()
    acts = visible_acts(user)
    if since:
        acts = acts.filter(requested_at__gte=since)
    if until:
        acts = acts.filter(requested_at__lt=until)
    rows = acts.values_list("pk", "hub_id", "hub__name", "specialty_id", "status", "requested_at", "due_at",
                            "first_answered_at", "reported_at", "cancelled_at")
    table: dict[tuple, Indicator] = {}

    def item_for(hub_id, hub_name, specialty_id) -> Indicator:
        key = (str(hub_id), specialty_id)
        if key not in table:
            table[key] = Indicator(str(hub_id), hub_name, specialty_id)
        return table[key]

    for pk, hub_id, hub_name, specialty_id, status, requested_at, due_at, answered_at, reported_at, cancelled_at \
            in rows.iterator():
        item = item_for(hub_id, hub_name, specialty_id)
        item.requests += 1
        if answered_at is not None:
            item.answered += 1
            item.first_answer_minutes.append((answered_at - requested_at).total_seconds() / 60)
        if reported_at is not None:
            item.reported += 1
            item.report_minutes.append((reported_at - requested_at).total_seconds() / 60)
        # The timer of the hub holding the act: it stops at its answer (or at a cancellation).
        stopped = None if status in AWAITING_ANSWER else (answered_at or cancelled_at)
        if (stopped or now) > due_at:
            item.breaches += 1
        if status == Status.EXPIRED:
            item.expired += 1
    # Declines and escalations count for the hub that made them, recorded on the transition.
    moves = (StatusTransition.objects.filter(act__in=acts.values("pk"), to_status__in=[Status.DECLINED, Status.ESCALATED])
             .values_list("hub_id", "hub__name", "act__specialty_id", "to_status"))
    for hub_id, hub_name, specialty_id, to_status in moves.iterator():
        item = item_for(hub_id, hub_name, specialty_id)
        if to_status == Status.DECLINED:
            item.declines += 1
        else:
            item.escalations += 1
    return sorted(table.values(), key=lambda i: (i.hub_name, i.specialty_id))


def awaiting_count(user) -> int:
    """How many visible acts wait for a first answer (for a badge)."""
    return visible_acts(user).filter(Q(status__in=[Status.REQUESTED, Status.ESCALATED])).count()


# --- Live feeds ----------------------------------------------------------------------------------------------

def may_watch_hub(user, hub_id, specialty_id: str) -> bool:
    """Whether a user may follow a hub's worklist in a specialty: its specialists, and coordinators over it."""
    scope = scope_of(user)
    if not Site.objects.restrict(user, Perm.VIEW_ACT).filter(pk=hub_id, kind__in=Site.HUB_KINDS).exists():
        return False
    if scope.role == Role.SPECIALIST:
        return user.staff.specialty_id == specialty_id
    return scope.national or scope.role == Role.COORDINATOR


def may_watch_site(user, site_id) -> bool:
    """Whether a user may follow a requesting site's acts: its staff, and coordinators over it."""
    if scope_of(user).role == Role.SPECIALIST:
        return False
    return Site.objects.restrict(user, Perm.VIEW_ACT).filter(pk=site_id).exists()
