"""Reads of telemedicine acts: worklists, an act's file, the patient's reports, coordinators' indicators."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Count, DateTimeField, Exists, Min, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.core.access import Perm, Role, scope_of
from caravane.network.models import Assignment, Site, active_on
from caravane.telemed import routing_rules, sla
from caravane.telemed.models import (
    AWAITING_ANSWER, OPEN_STATUSES, Appointment, Communication, DiagnosticReport, Priority, ReadMarker, ReportAmendment,
    ServiceRequest, Slot, Status, StatusTransition,
)


def visible_acts(user, perm: Perm = Perm.VIEW_ACT):
    """The acts on which a user holds ``perm``: the one scoped entry point of every list."""
    return ServiceRequest.objects.restrict(user, perm)


# --- The network as routing sees it --------------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    """Every active hub as routing sees it at ``now``, and the referral parents of every hub (active or not)."""

    now: datetime.datetime
    hubs: dict[str, routing_rules.Hub]
    parents: dict[str, tuple[str, str | None]]  # hub id -> (kind, referral parent id)

    def network_for(self, site) -> routing_rules.Network:
        """The hubs a request from ``site`` may reach: its regional centre, the central platform, the national
        centre (the first of each kind by code, as the snapshot lists them)."""
        # The referral chain, from the site itself when it is a regional centre, else from its parent.
        node = str(site.pk) if site.kind == Site.Kind.REGIONAL_CENTRE else str(site.parent_id or "")
        regional, seen = None, set()
        while node in self.parents and node not in seen:
            seen.add(node)
            kind, parent = self.parents[node]
            if kind == Site.Kind.REGIONAL_CENTRE:
                regional = node
                break
            node = parent
        first = {kind: next((h for h in self.hubs.values() if h.kind == kind), None)
                 for kind in (Site.Kind.CENTRAL_PLATFORM, Site.Kind.NATIONAL_CENTRE)}
        return routing_rules.Network(regional_centre=self.hubs.get(regional),
                                     central_platform=first[Site.Kind.CENTRAL_PLATFORM],
                                     national_centre=first[Site.Kind.NATIONAL_CENTRE])

    def deadline(self, priority: str, levels: dict | None = None) -> datetime.datetime:
        """When the first answer to a request of ``priority`` made now would be due."""
        return sla.answer_due(priority, self.now, levels)


def network_snapshot(now: datetime.datetime | None = None) -> Snapshot:
    """The hubs, what they list, which specialties have a specialist assigned there today, and when each is
    first on the hub's roster: four queries whatever the size of the network."""
    now = now or timezone.now()
    rows = list(Site.objects.filter(kind__in=Site.HUB_KINDS).order_by("code")
                .values_list("pk", "name", "name_ar", "kind", "parent_id", "active"))
    listed: dict = {}
    for site_id, code in Site.specialties.through.objects.filter(
            site__kind__in=Site.HUB_KINDS, site__active=True).values_list("site_id", "specialty_id"):
        listed.setdefault(site_id, set()).add(code)
    staffed: dict = {}
    for site_id, code in (Assignment.objects.filter(active_on(), site__kind__in=Site.HUB_KINDS, site__active=True,
                                                    staff__role=Role.SPECIALIST, staff__specialty__isnull=False)
                          .values_list("site_id", "staff__specialty_id").distinct()):
        staffed.setdefault(site_id, set()).add(code)
    # A slot counts when its specialist is still assigned to its hub (the same assignment row, one filter call).
    first: dict = {}
    for hub_id, code, start in (Slot.objects.filter(active_on(prefix="specialist__assignments__"),
                                                    specialist__assignments__site=models.F("hub"),
                                                    active=True, end__gt=now, hub__active=True)
                                .values_list("hub_id", "specialty_id").annotate(first=Min("start"))
                                .values_list("hub_id", "specialty_id", "first")):
        first.setdefault(hub_id, {})[code] = max(start, now)
    hubs = {str(pk): routing_rules.Hub(str(pk), name, kind, frozenset(listed.get(pk, ())), name_ar,
                                       frozenset(staffed.get(pk, ())), first.get(pk, {}))
            for pk, name, name_ar, kind, _parent, active in rows if active}
    parents = {str(pk): (kind, str(parent) if parent else None) for pk, _name, _ar, kind, parent, _active in rows}
    return Snapshot(now, hubs, parents)


def route_for(site, *, kind: str, specialty: str, priority: str, complex_case: bool = False,
              snapshot: Snapshot | None = None) -> routing_rules.Route:
    """Where a request from ``site`` would go now, and why (ValidationError when no hub offers the specialty)."""
    snapshot = snapshot or network_snapshot()
    return routing_rules.route_request(kind=kind, specialty=specialty, complex_case=complex_case,
                                       network=snapshot.network_for(site), deadline=snapshot.deadline(priority))


@dataclass(frozen=True)
class RoutePreview:
    """Where a request would go now, when its answer would be due, and which other priorities a hub answers in."""

    route: routing_rules.Route
    deadline: datetime.datetime
    priorities_in_time: tuple[str, ...]


def route_preview(site, *, kind: str, specialty: str, priority: str, complex_case: bool = False) -> RoutePreview:
    """What the GP is told before sending: the route, and the priorities a hub would answer within."""
    snapshot = network_snapshot()
    table = sla.levels()
    network = snapshot.network_for(site)

    def route(level):
        return routing_rules.route_request(kind=kind, specialty=specialty, complex_case=complex_case,
                                           network=network, deadline=snapshot.deadline(level, table))

    found = route(priority)
    in_time = tuple(level for level in Priority.values if level != priority and route(level).within_service_level)
    return RoutePreview(found, snapshot.deadline(priority, table), in_time)


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


# --- The coordinators' page -----------------------------------------------------------------------------------

# The page's target in the audit trail and the gate.
COORDINATION = ("telemed", "coordination")
# An act waiting for its first answer is "due soon" within this time of its due time.
DUE_SOON = datetime.timedelta(hours=1)
# The sections of the page, most pressing first: waiting past the due time, due soon, waiting, and refused by
# their hub or expired (waiting for a coordinator to send them elsewhere).
SECTIONS = ("overdue", "due_soon", "waiting", "returned")


@dataclass
class CoordinationEntry:
    act: ServiceRequest
    timer: sla.Timer
    waiting_minutes: int
    section: str
    # The hubs the act may be reassigned to, each a routing step (with its explanation) assessed as routing
    # would: those answering in time first.
    choices: list[dict]
    # Why the act would leave its hub, as the reassignment's reason unless the coordinator writes another.
    reason: str


def _section(act, now) -> str:
    if act.status not in AWAITING_ANSWER:
        return "returned"
    if act.due_at <= now:
        return "overdue"
    return "due_soon" if act.due_at <= now + DUE_SOON else "waiting"


def _default_reason(act, section: str, current: routing_rules.Hub | None) -> str:
    hub = act.hub.name
    if section == "returned":
        return (_("Declined by %(hub)s: %(reason)s") % {"hub": hub, "reason": act.status_reason}
                if act.status == Status.DECLINED else _("Expired at %(hub)s without an answer.") % {"hub": hub})
    if section == "overdue":
        return _("No answer from %(hub)s within the service level.") % {"hub": hub}
    if current is not None and not current.answers_by(act.specialty_id, act.due_at):
        step = routing_rules.assess(current, act.specialty_id, act.due_at, "hub").as_dict()
        return routing_rules.explain(step, specialty_name(act.specialty))
    return _("Sent to a hub that answers sooner.")


def coordination(user, *, now: datetime.datetime | None = None, limit: int = 200) -> dict[str, list[CoordinationEntry]]:
    """The acts in the coordinator's scope that need them, by section (``SECTIONS``), each with the hubs it may go
    to and why: a fixed number of queries whatever the number of acts."""
    now = now or timezone.now()
    statuses = [*AWAITING_ANSWER, Status.DECLINED, Status.EXPIRED]
    page = visible_acts(user).filter(status__in=statuses).order_by("due_at").values("pk")[:limit]
    acts = (ServiceRequest.objects.filter(pk__in=page).select_related(*_RELATED_ROWS, "hub")
            .only(*WORKLIST_FIELDS, "status_reason", "hub__name", "hub__name_ar", "hub__code", "hub__kind")
            .order_by("rank", "due_at"))
    snapshot = network_snapshot(now)
    table = sla.levels()
    sections: dict[str, list[CoordinationEntry]] = {name: [] for name in SECTIONS}
    for act in acts:
        section = _section(act, now)
        sections[section].append(CoordinationEntry(
            act, sla.timer(act, now), int((now - act.requested_at).total_seconds() // 60), section,
            reassignment_options(act, snapshot=snapshot, levels=table),
            _default_reason(act, section, snapshot.hubs.get(str(act.hub_id)))[:255]))
    return sections


def reassignment_options(act, *, snapshot: Snapshot | None = None, levels: dict | None = None) -> list[dict]:
    """The hubs an act may be reassigned to, each a routing step with its explanation: those with a specialist of
    its specialty on the roster before the answer would be due (reassigning restarts the timer) first."""
    snapshot = snapshot or network_snapshot()
    name = specialty_name(act.specialty)
    steps = routing_rules.reassignment_choices(
        specialty=act.specialty_id, hubs=list(snapshot.hubs.values()),
        deadline=sla.answer_due(act.priority, snapshot.now, levels),
        exclude=str(act.hub_id) if act.status in AWAITING_ANSWER else None)
    return [{**step.as_dict(), "explanation": routing_rules.explain(step.as_dict(), name)} for step in steps]
# --- What is new to a reader -----------------------------------------------------------------------------
# Before anything was ever read.
_NEVER = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
def with_unread(user, acts):
    """``acts`` annotated with what ``user`` has not seen since last opening each one's page:
    ``unread_messages`` (others' messages) and ``new_report`` (a report signed, or amended, since)."""
    last_read = Coalesce(Subquery(ReadMarker.objects.filter(act=OuterRef("pk"), user=user).values("read_at")[:1]),
                         Value(_NEVER), output_field=DateTimeField())
    messages = (Communication.objects.filter(act=OuterRef("pk"), sent_at__gt=OuterRef("last_read"))
                .exclude(sender__user=user).order_by().values("act").annotate(n=Count("pk")).values("n"))
    reported = DiagnosticReport.objects.filter(act=OuterRef("pk"), signed_at__gt=OuterRef("last_read"))
    amended = ReportAmendment.objects.filter(report__act=OuterRef("pk"), created_at__gt=OuterRef("last_read"))
    return acts.annotate(last_read=last_read).annotate(
        unread_messages=Coalesce(Subquery(messages), 0), new_report=Exists(reported) | Exists(amended))
def requests_of(user, *, unread_only: bool = False, limit: int = 100) -> list[ServiceRequest]:
    """The requests a user follows, newest first, each with what is new to them; ``unread_only``: those alone."""
    acts = with_unread(user, visible_acts(user)).select_related("patient", "hub", "specialty", "requesting_site")
    if unread_only:
        acts = acts.filter(Q(unread_messages__gt=0) | Q(new_report=True))
    return list(acts.order_by("-requested_at")[:limit])


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
