"""Telemedicine API (/api/telemed/): acts (ServiceRequest), their workflow (Task), bookings (Slot, Appointment),
conversation (Communication), files and reports (DiagnosticReport), and coordinators' indicators.

Every read goes through the act's scope (the gate: 403 with an audit row outside it) and every change
through the audited actions.
"""


import datetime
import uuid
from typing import Literal, Optional

from django.http import FileResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from caravane.audit import gate
from caravane.care.models import Encounter
from caravane.core.access import Perm
from caravane.core.api import ERRORS, INPUT_ERRORS, Instant, PageNumber, get_or_404, run_action
from caravane.core.idempotency import idempotent
from caravane.core.text import ClinicalText, IncidentText, MessageText, ShortText
from caravane.network.models import Site, Specialty
from caravane.telemed import actions, presenters, routing_rules, selectors, sla
from caravane.telemed.models import (
    Appointment, Attachment, Communication, DiagnosticReport, Kind, Priority, ServiceRequest, Slot, Status,
    TechnicalIncident,
)

router = Router(tags=["telemed"])


# --- Schemas ------------------------------------------------------------------------------------------------

class RouteStepOut(Schema):
    rule: str
    hub: Optional[str] = Field(None, alias="hub_id")
    hub_name: str
    chosen: bool
    reason: str = ""
    by: str = ""
    at: str = ""
    explanation: str


class ServiceRequestOut(Schema):
    resourceType: str = "ServiceRequest"
    id: uuid.UUID
    kind: str = Field(description="teleconsultation, teleexpertise, teleassistance, telemonitoring")
    status: str = Field(description="The Task status: requested, accepted, scheduled, in_progress, reported, "
                                    "closed, declined, cancelled, escalated, expired")
    priority: str = Field(description="urgent, priority, routine")
    patient: uuid.UUID = Field(alias="patient_id")
    encounter: Optional[uuid.UUID] = Field(alias="encounter_id")
    consent: uuid.UUID = Field(alias="consent_id")
    requesting_site: uuid.UUID = Field(alias="requesting_site_id")
    requester: uuid.UUID = Field(alias="requester_id")
    specialty: str = Field(alias="specialty_id")
    hub: uuid.UUID = Field(alias="hub_id")
    assignee: Optional[uuid.UUID] = Field(alias="assignee_id")
    question: str
    complex_case: bool
    status_reason: str
    requested_at: datetime.datetime
    due_at: datetime.datetime
    first_answered_at: Optional[datetime.datetime]
    accepted_at: Optional[datetime.datetime]
    scheduled_at: Optional[datetime.datetime]
    started_at: Optional[datetime.datetime]
    reported_at: Optional[datetime.datetime]
    closed_at: Optional[datetime.datetime]
    declined_at: Optional[datetime.datetime]
    cancelled_at: Optional[datetime.datetime]
    escalated_at: Optional[datetime.datetime]
    expired_at: Optional[datetime.datetime]
    sla_breached: bool
    sla_remaining_seconds: int
    route: list[RouteStepOut]
    routed_within_service_level: bool = Field(
        description="False when, at request time, no hub had a specialist of the specialty on the roster before "
                    "the answer was due (the request was sent anyway, to the hub of the route's last chosen step)")

    @staticmethod
    def resolve_routed_within_service_level(obj) -> bool:
        return not any(step.get("rule") == "none_within_service_level" for step in obj.route)

    @staticmethod
    def resolve_sla_breached(obj) -> bool:
        return sla.timer(obj, timezone.now()).breached

    @staticmethod
    def resolve_sla_remaining_seconds(obj) -> int:
        return sla.timer(obj, timezone.now()).remaining_seconds

    @staticmethod
    def resolve_route(obj) -> list[dict]:
        return selectors.route_explained(obj)


class ServiceRequestIn(Schema):
    encounter: uuid.UUID = Field(description="The visit the request comes from")
    kind: Literal[tuple(Kind.values)]  # type: ignore[valid-type]
    specialty: str
    priority: Literal[tuple(Priority.values)] = "routine"  # type: ignore[valid-type]
    question: MessageText
    complex_case: bool = False
    send_anyway: bool = Field(True, description="False: refuse (400 naming send_anyway) when no hub has a "
                                                "specialist of the specialty on the roster before the answer is due")


class RoutePreviewIn(Schema):
    kind: Literal[tuple(Kind.values)]  # type: ignore[valid-type]
    specialty: str
    priority: Literal[tuple(Priority.values)] = "routine"  # type: ignore[valid-type]
    complex_case: bool = False


class RoutePreviewOut(Schema):
    hub: uuid.UUID
    hub_name: str
    within_service_level: bool = Field(description="Whether a hub has a specialist of the specialty on the roster "
                                                   "before the answer would be due")
    due_at: datetime.datetime = Field(description="When the first answer would be due if the request were sent now")
    first_available: Optional[datetime.datetime] = Field(
        description="When the chosen hub's first specialist of the specialty is on the roster (None: nobody is)")
    priorities_in_time: list[str] = Field(description="Other priorities a hub would answer within")
    warning: list[str] = Field(description="Empty when a hub answers in time; otherwise what the GP is told before "
                                           "sending: the fact, then the options")
    route: list[RouteStepOut]


class TransitionOut(Schema):
    id: uuid.UUID
    from_status: str
    to_status: str
    hub: uuid.UUID = Field(alias="hub_id")
    actor: Optional[uuid.UUID] = Field(alias="actor_id")
    at: datetime.datetime
    reason: str


class TaskOut(Schema):
    resourceType: str = "Task"
    id: uuid.UUID
    focus: uuid.UUID = Field(description="The ServiceRequest")
    status: str
    owner: uuid.UUID = Field(description="The hub holding the act")
    history: list[TransitionOut]


class TransitionIn(Schema):
    to: Literal["accepted", "declined", "escalated", "in_progress", "cancelled", "closed"]
    reason: ShortText = ""


class ReassignIn(Schema):
    hub: uuid.UUID
    reason: ShortText


class AttachmentOut(Schema):
    id: uuid.UUID
    category: str
    filename: str
    content_type: str
    size: int
    sha256: str
    communication: Optional[uuid.UUID] = Field(alias="communication_id")
    uploaded_by: uuid.UUID = Field(alias="uploaded_by_id")
    created_at: datetime.datetime


class CommunicationOut(Schema):
    resourceType: str = "Communication"
    id: uuid.UUID
    about: uuid.UUID = Field(alias="act_id")
    in_response_to: Optional[uuid.UUID] = Field(alias="in_response_to_id")
    sender: uuid.UUID = Field(alias="sender_id")
    category: str
    text: str
    sent_at: datetime.datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj):
        return list(obj.attachments.all())


class IncidentIn(Schema):
    category: Literal[tuple(TechnicalIncident.Category.values)]  # type: ignore[valid-type]
    description: IncidentText
    occurred_at: Optional[Instant] = None


class IncidentOut(Schema):
    id: uuid.UUID
    category: str
    description: str
    occurred_at: datetime.datetime
    reporter: uuid.UUID = Field(alias="reporter_id")


class SlotIn(Schema):
    hub: uuid.UUID
    start: Instant
    end: Instant


class SlotOut(Schema):
    resourceType: str = "Slot"
    id: uuid.UUID
    specialist: uuid.UUID = Field(alias="specialist_id")
    hub: uuid.UUID = Field(alias="hub_id")
    specialty: str = Field(alias="specialty_id")
    start: datetime.datetime
    end: datetime.datetime
    active: bool


class SlotFilters(Schema):
    hub: uuid.UUID
    specialty: str
    start_after: Optional[Instant] = None


class AppointmentIn(Schema):
    slot: uuid.UUID


class AppointmentOut(Schema):
    resourceType: str = "Appointment"
    id: uuid.UUID
    based_on: uuid.UUID = Field(alias="act_id")
    slot: uuid.UUID = Field(alias="slot_id")
    specialist: uuid.UUID = Field(alias="specialist_id")
    start: datetime.datetime
    end: datetime.datetime
    status: str
    cancel_reason: str


class ReasonIn(Schema):
    reason: ShortText


class MedicationLineIn(Schema):
    """A medication line of the report, as care's prescription line (coded dose and timing, or free text)."""

    medication: str = Field("", max_length=160)
    dose_value: Optional[str] = Field(None, max_length=16)
    dose_unit: str = Field("", max_length=16)
    dose: str = Field("", max_length=60)
    route: str = Field("oral", max_length=16)
    timing: str = Field("", max_length=16)
    frequency: str = Field("", max_length=60)
    duration_days: Optional[int] = None
    instructions: str = Field("", max_length=255)


class ReportIn(Schema):
    findings: ClinicalText = ""
    icd10_code: str = Field("", max_length=16)
    icd10_category: bool = Field(False, description="The ICD-10 code is a category with subdivisions, coded as "
                                                    "such on purpose (refused otherwise).")
    diagnosis_text: ShortText = ""
    recommendations: ClinicalText = ""
    prescriptions: ClinicalText = ""
    follow_up: ClinicalText = ""
    medication_lines: list[MedicationLineIn] = Field(default_factory=list, max_length=20,
                                                     description="Become the visit's prescriptions at signing.")
    performed_at: Optional[Instant] = None


class AmendmentIn(Schema):
    reason: ShortText
    text: ClinicalText


class AmendmentOut(Schema):
    id: uuid.UUID
    author: uuid.UUID = Field(alias="author_id")
    reason: str
    text: str
    created_at: datetime.datetime


class DiagnosticReportOut(Schema):
    resourceType: str = "DiagnosticReport"
    id: uuid.UUID
    based_on: uuid.UUID = Field(alias="act_id")
    subject: uuid.UUID = Field(alias="patient_id")
    status: str
    findings: str
    icd10_code: str
    icd10_label: str
    diagnosis_text: str
    recommendations: str
    prescriptions: str
    follow_up: str
    medication_lines: list[dict]
    medication_requests: list[uuid.UUID] = Field(description="The visit's prescriptions the lines became (signed)")
    performed_at: datetime.datetime
    participants: list[dict]
    incidents: list[dict]
    author: uuid.UUID = Field(alias="author_id")
    signed_at: Optional[datetime.datetime]
    signed_by: Optional[uuid.UUID] = Field(alias="signed_by_id")
    amendments: list[AmendmentOut]

    @staticmethod
    def resolve_medication_requests(obj) -> list:
        return [link.medication_request_id for link in obj.prescription_links.all()]

    @staticmethod
    def resolve_status(obj) -> str:
        if not obj.is_signed:
            return "preliminary"
        return "amended" if obj.amendments.exists() else "final"

    @staticmethod
    def resolve_amendments(obj):
        return list(obj.amendments.all())


class IndicatorOut(Schema):
    hub: str
    hub_name: str
    specialty: str
    requests: int
    answered: int
    reported: int
    breaches: int
    declines: int
    escalations: int
    expired: int
    first_answer_minutes_median: Optional[float]
    first_answer_minutes_p90: Optional[float]
    report_minutes_median: Optional[float]
    report_minutes_p90: Optional[float]


class RequestFilters(Schema):
    status: Optional[Literal[tuple(Status.values)]] = None  # type: ignore[valid-type]
    kind: Optional[Literal[tuple(Kind.values)]] = None  # type: ignore[valid-type]
    priority: Optional[Literal[tuple(Priority.values)]] = None  # type: ignore[valid-type]
    hub: Optional[uuid.UUID] = None
    specialty: Optional[str] = None
    requesting_site: Optional[uuid.UUID] = None
    patient: Optional[uuid.UUID] = None


# --- Helpers ------------------------------------------------------------------------------------------------

ACTS = ("telemed.servicerequest", "")


# The rows an act is read from: the gate reads it once, before the input, and the handler gets that row.
ACT_ROWS = ServiceRequest.objects.select_related("requesting_site", "specialty")
VISIT_ROWS = Encounter.objects.select_related("site")


def _act(request, pk, perm: Perm = Perm.VIEW_ACT, audit_action: str = "telemed.view_act") -> ServiceRequest:
    return gate.get(request.user, ACT_ROWS, pk, perm, audit_action=audit_action,
                    site_of=lambda act: act.requesting_site)


def _uploads(files, category: str) -> list[actions.Upload]:
    return [actions.Upload.from_uploaded(f, category, field="files") for f in files or []]


def _task(act: ServiceRequest) -> dict:
    return {"id": act.pk, "focus": act.pk, "status": act.status, "owner": act.hub_id,
            "history": list(act.transitions.all())}


# --- Acts ---------------------------------------------------------------------------------------------------

@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.list_acts")
@router.get("/service-requests", response={200: list[ServiceRequestOut], **ERRORS}, url_name="telemed_requests")
@paginate(PageNumber)
def list_requests(request, filters: Query[RequestFilters]):
    """Acts in the caller's scope (a specialist: their hub and specialty), newest first."""
    gate.require(request.user, Perm.VIEW_ACT, ACTS, in_scope=True, audit_action="telemed.list_acts")
    lookups = {"hub": "hub_id", "specialty": "specialty_id", "requesting_site": "requesting_site_id",
               "patient": "patient_id"}
    queryset = selectors.visible_acts(request.user).select_related("specialty").order_by("-requested_at")
    chosen = filters.dict(exclude_none=True)
    for name, value in chosen.items():
        queryset = queryset.filter(**{lookups.get(name, name): value})
    gate.note(request.user, Perm.VIEW_ACT, ACTS, filters={k: str(v) for k, v in chosen.items()})
    return queryset


@gate.before_input(Perm.REQUEST_ACT, ACT_ROWS)
@router.post("/service-requests", response={201: ServiceRequestOut, **ERRORS, **INPUT_ERRORS})
@idempotent
def create_request(request, data: ServiceRequestIn):
    """Ask for a telemedicine act about a visit's patient; routed at once (400 without a valid consent)."""
    encounter = gate.get(request.user, Encounter.objects.select_related("site", "patient"), data.encounter,
                         Perm.REQUEST_ACT, audit_action="telemed.request_lookup", site_of=lambda e: e.site)
    return 201, run_action(actions.do_request_act, actor=request.user, encounter=encounter, kind=data.kind,
                     specialty=data.specialty, priority=data.priority, question=data.question,
                     complex_case=data.complex_case, send_anyway=data.send_anyway)


@gate.before_input(Perm.REQUEST_ACT, VISIT_ROWS, audit_action="telemed.route_preview")
@router.get("/encounters/{pk}/route", response={200: RoutePreviewOut, **ERRORS, **INPUT_ERRORS},
            url_name="telemed_route_preview")
def route_preview(request, pk: uuid.UUID, query: Query[RoutePreviewIn]):
    """Where a request from this visit would go if sent now, and why; a warning with the options when no hub has
    a specialist of the specialty on the roster before the answer would be due (sending anyway still works)."""
    encounter = gate.get(request.user, VISIT_ROWS, pk, Perm.REQUEST_ACT, audit_action="telemed.route_preview",
                         site_of=lambda e: e.site)
    preview = run_action(selectors.route_preview, site=encounter.site, kind=query.kind, specialty=query.specialty,
                         priority=query.priority, complex_case=query.complex_case)
    specialty = Specialty.objects.filter(pk=query.specialty).first()
    name = selectors.specialty_name(specialty) if specialty else query.specialty
    steps = [step.as_dict() for step in preview.route.steps]
    return {"hub": preview.route.hub.id, "hub_name": preview.route.hub.name,
            "within_service_level": preview.route.within_service_level, "due_at": preview.deadline,
            "first_available": preview.route.available, "priorities_in_time": list(preview.priorities_in_time),
            "warning": presenters.route_warning(preview, name),
            "route": [{**step, "explanation": routing_rules.explain(step, name)} for step in steps]}


@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.get("/service-requests/{pk}", response={200: ServiceRequestOut, **ERRORS})
def get_request(request, pk: uuid.UUID):
    """One act, with its route and why, and its service-level timer."""
    return _act(request, pk)


@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.get("/service-requests/{pk}/task", response={200: TaskOut, **ERRORS})
def get_task(request, pk: uuid.UUID):
    """The act's workflow: its state and every transition (append-only)."""
    return _task(_act(request, pk))


TRANSITION_ACTIONS = {
    Status.ACCEPTED: lambda user, act, reason: actions.do_accept(actor=user, act=act),
    Status.DECLINED: lambda user, act, reason: actions.do_decline(actor=user, act=act, reason=reason),
    Status.ESCALATED: lambda user, act, reason: actions.do_escalate(actor=user, act=act, reason=reason),
    Status.IN_PROGRESS: lambda user, act, reason: actions.do_start(actor=user, act=act),
    Status.CANCELLED: lambda user, act, reason: actions.do_cancel(actor=user, act=act, reason=reason),
    Status.CLOSED: lambda user, act, reason: actions.do_close(actor=user, act=act),
}


@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.post("/service-requests/{pk}/task", response={200: TaskOut, **ERRORS, **INPUT_ERRORS})
def transition(request, pk: uuid.UUID, data: TransitionIn):
    """Move the act: accept, decline (reason), escalate (reason), start, cancel (reason), close.
    Booking (scheduled) and signing the report (reported) have their own endpoints."""
    act = _act(request, pk, audit_action="telemed.view_act")
    act = run_action(lambda: TRANSITION_ACTIONS[data.to](request.user, act, data.reason))
    return _task(act)


@gate.before_input(Perm.REASSIGN_ACT, ACT_ROWS)
@router.post("/service-requests/{pk}/reassign", response={200: ServiceRequestOut, **ERRORS, **INPUT_ERRORS})
def reassign(request, pk: uuid.UUID, data: ReassignIn):
    """A coordinator sends the act to another hub offering its specialty, with a reason."""
    act = _act(request, pk)
    hub = get_or_404(Site.objects.all(), pk=data.hub)
    return run_action(actions.do_reassign, actor=request.user, act=act, hub=hub, reason=data.reason)


@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_worklist")
@router.get("/worklist", response={200: list[ServiceRequestOut], **ERRORS}, url_name="telemed_worklist")
def worklist(request, hub: uuid.UUID, specialty: str, limit: int = Query(100, ge=1, le=200)):
    """A hub's open acts in a specialty, most urgent then longest waiting first."""
    target = ("network.site", str(hub))
    gate.require(request.user, Perm.VIEW_ACT, target, audit_action="telemed.view_worklist",
                 in_scope=selectors.may_watch_hub(request.user, hub, specialty))
    entries = selectors.worklist(request.user, hub=hub, specialty=specialty, limit=limit, whole_acts=True)
    gate.note(request.user, Perm.VIEW_ACT, target, specialty=specialty)
    gate.returned(request.user, Perm.VIEW_ACT, target, [entry.act.patient_id for entry in entries])
    return [entry.act for entry in entries]


# --- Files, conversation, incidents -------------------------------------------------------------------------

@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.get("/service-requests/{pk}/attachments", response={200: list[AttachmentOut], **ERRORS})
def list_attachments(request, pk: uuid.UUID):
    """The act's files (with their size and SHA-256)."""
    return list(_act(request, pk).attachments.all())


@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.post("/service-requests/{pk}/attachments", response={201: list[AttachmentOut], **ERRORS, **INPUT_ERRORS})
def add_attachments(request, pk: uuid.UUID, category: Form[Literal[tuple(Attachment.Category.values)]],  # type: ignore[valid-type]
                    files: File[list[UploadedFile]]):
    """Attach photos, documents or ECG files (multipart: ``category`` and ``files``)."""
    act = _act(request, pk)
    return 201, run_action(actions.do_attach, actor=request.user, act=act, uploads=_uploads(files, category))


@gate.before_input(Perm.VIEW_ACT, Attachment, audit_action="telemed.download")
@router.get("/attachments/{pk}/content", response={200: None, **ERRORS})
def attachment_content(request, pk: uuid.UUID):
    """Download a file (audited; 403 outside the act's scope)."""
    attachment = gate.get(request.user, Attachment.objects.select_related("act__requesting_site"), pk, Perm.VIEW_ACT,
                          audit_action="telemed.download", site_of=lambda a: a.act.requesting_site)
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type, as_attachment=True,
                            filename=attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.get("/service-requests/{pk}/communications", response={200: list[CommunicationOut], **ERRORS})
def list_communications(request, pk: uuid.UUID):
    """The act's conversation in reading order (replies after what they answer)."""
    return [message for message, _depth in selectors.thread(_act(request, pk))]


@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.post("/service-requests/{pk}/communications", response={201: CommunicationOut, **ERRORS, **INPUT_ERRORS})
@idempotent
def send_communication(request, pk: uuid.UUID, text: Form[MessageText], in_response_to: Form[Optional[uuid.UUID]] = None,
                       information_request: Form[bool] = False,
                       category: Form[Literal[tuple(Attachment.Category.values)]] = "photo",  # type: ignore[valid-type]
                       files: File[list[UploadedFile]] = None):
    """Post a message (multipart: ``text``, optional ``in_response_to``, ``information_request``, ``files``
    of one ``category``)."""
    act = _act(request, pk)
    parent = get_or_404(Communication.objects.filter(act=act), pk=in_response_to) if in_response_to else None
    return 201, run_action(actions.do_send_message, actor=request.user, act=act, text=text, in_response_to=parent,
                     information_request=information_request, uploads=_uploads(files, category))


@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.post("/service-requests/{pk}/incidents", response={201: IncidentOut, **ERRORS, **INPUT_ERRORS})
def report_incident(request, pk: uuid.UUID, data: IncidentIn):
    """Record a technical incident during the act."""
    return 201, run_action(actions.do_report_incident, actor=request.user, act=_act(request, pk), **data.dict())


# --- Rosters and bookings -----------------------------------------------------------------------------------

@gate.before_input(Perm.VIEW_ACT, Slot)
@router.get("/slots", response={200: list[SlotOut], **ERRORS})
def list_slots(request, filters: Query[SlotFilters]):
    """Open slots of a hub in a specialty, from now (or ``start_after``)."""
    since = filters.start_after or timezone.now()
    return list(gate.restrict(request.user, Slot.objects.all(), Perm.VIEW_ACT, target=("telemed.slot", "")).filter(
        hub_id=filters.hub, specialty_id=filters.specialty, active=True, end__gt=since).order_by("start")[:200])


@gate.before_input(Perm.MANAGE_ROSTER, Slot)
@router.post("/slots", response={201: SlotOut, **ERRORS, **INPUT_ERRORS})
def open_slot(request, data: SlotIn):
    """A specialist opens a bookable period at their hub."""
    hub = get_or_404(Site.objects.all(), pk=data.hub)
    return 201, run_action(actions.do_open_slot, actor=request.user, hub=hub, start=data.start, end=data.end)


@gate.before_input(Perm.MANAGE_ROSTER, Slot)
@router.delete("/slots/{pk}", response={200: SlotOut, **ERRORS, **INPUT_ERRORS})
def withdraw_slot(request, pk: uuid.UUID):
    """Withdraw an unbooked slot (it stays on record, unbookable)."""
    slot = get_or_404(Slot.objects.all(), pk=pk)
    return run_action(actions.do_withdraw_slot, actor=request.user, slot=slot)


@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.get("/service-requests/{pk}/appointments", response={200: list[AppointmentOut], **ERRORS})
def list_appointments(request, pk: uuid.UUID):
    """The act's bookings: when the specialist will call."""
    return list(_act(request, pk).appointments.all())


@gate.before_input(Perm.ANSWER_ACT, ACT_ROWS)
@router.post("/service-requests/{pk}/appointments", response={201: AppointmentOut, **ERRORS, **INPUT_ERRORS})
def book(request, pk: uuid.UUID, data: AppointmentIn):
    """Book the act's teleconsultation in a free slot of its hub and specialty."""
    act = _act(request, pk)
    slot = get_or_404(Slot.objects.all(), pk=data.slot)
    return 201, run_action(actions.do_book, actor=request.user, act=act, slot=slot)


@gate.before_input(Perm.VIEW_ACT, Appointment, audit_action="telemed.view_appointment")
@router.post("/appointments/{pk}/cancel", response={200: AppointmentOut, **ERRORS, **INPUT_ERRORS})
def cancel_appointment(request, pk: uuid.UUID, data: ReasonIn):
    """Cancel a booking, with a reason; the act can be booked again."""
    appointment = gate.get(request.user, Appointment.objects.select_related("act__requesting_site"), pk,
                           Perm.VIEW_ACT, audit_action="telemed.view_appointment",
                           site_of=lambda a: a.act.requesting_site)
    return run_action(actions.do_cancel_appointment, actor=request.user, appointment=appointment, reason=data.reason)


# --- Reports ------------------------------------------------------------------------------------------------

@gate.before_input(Perm.VIEW_ACT, ACT_ROWS, audit_action="telemed.view_act")
@router.get("/service-requests/{pk}/report", response={200: DiagnosticReportOut, **ERRORS})
def get_report(request, pk: uuid.UUID):
    """The act's report (preliminary until signed)."""
    return get_or_404(DiagnosticReport.objects.all(), act=_act(request, pk))


@gate.before_input(Perm.ANSWER_ACT, ACT_ROWS)
@router.put("/service-requests/{pk}/report", response={200: DiagnosticReportOut, **ERRORS, **INPUT_ERRORS})
def save_report(request, pk: uuid.UUID, data: ReportIn):
    """Write the draft report (the ICD-10 code is checked against WHO 2019)."""
    return run_action(actions.do_save_report, actor=request.user, act=_act(request, pk), **data.dict())


@gate.before_input(Perm.ANSWER_ACT, ACT_ROWS)
@router.post("/service-requests/{pk}/report/sign", response={200: DiagnosticReportOut, **ERRORS, **INPUT_ERRORS})
def sign_report(request, pk: uuid.UUID):
    """Sign the report: it is frozen and filed in the patient's chart."""
    return run_action(actions.do_sign_report, actor=request.user, act=_act(request, pk))


@gate.before_input(Perm.ANSWER_ACT, ACT_ROWS)
@router.post("/service-requests/{pk}/report/amendments", response={201: AmendmentOut, **ERRORS, **INPUT_ERRORS})
def amend_report(request, pk: uuid.UUID, data: AmendmentIn):
    """Correct a signed report by an amendment."""
    report = get_or_404(DiagnosticReport.objects.all(), act=_act(request, pk))
    return 201, run_action(actions.do_amend_report, actor=request.user, report=report, reason=data.reason,
                           text=data.text)


# --- Indicators ---------------------------------------------------------------------------------------------

@gate.before_input(Perm.VIEW_INDICATORS, ACT_ROWS, audit_action="telemed.view_indicators")
@router.get("/indicators", response={200: list[IndicatorOut], **ERRORS}, url_name="telemed_indicators")
def indicators(request, since: Optional[Instant] = None, until: Optional[Instant] = None):
    """Per hub and specialty over the caller's territory: requests, time to first answer and to report
    (median and p90, minutes), breaches, declines, escalations, expiries."""
    gate.require(request.user, Perm.VIEW_INDICATORS, ACTS, in_scope=True, audit_action="telemed.view_indicators")
    gate.note(request.user, Perm.VIEW_INDICATORS, ACTS, since=since.isoformat() if since else "",
              until=until.isoformat() if until else "")
    return [item.as_dict() for item in selectors.indicators(request.user, since=since, until=until)]
