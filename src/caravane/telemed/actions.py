"""State changes of telemedicine acts: request, route, answer, book, converse, report, expire.

Each action checks permission and scope before its transaction (so that a denial's audit row is kept),
then changes the database in one durable transaction with exactly one audit row, appends the state
change to the transitions table, and tells both sides of the act over WebSocket after the commit.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.care import actions as care_actions
from caravane.care import icd10
from caravane.care.models import Encounter
from caravane.core import files
from caravane.core.access import Perm, Role
from caravane.core.errors import TransitionError
from caravane.core.idempotency import action_transaction
from caravane.network.models import Site, Specialty, StaffMember
from caravane.patients.models import Consent
from caravane.patients.selectors import patient_consents, require_consent
from caravane.telemed import routing_rules, selectors, sla
from caravane.telemed.call_summaries import call_summary
from caravane.telemed.events import publish_act
from caravane.telemed.models import (
    AWAITING_ANSWER, Appointment, Attachment, Communication, DiagnosticReport, Kind, Participant, Priority,
    ReadMarker, ReportAmendment, ReportPrescription, ServiceLevel, ServiceRequest, Slot, Status, StatusTransition,
    TechnicalIncident,
)

# The acts' state machine: the states each state may move to. Reassignment (requested again at another hub)
# is the only way back from declined or expired.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.REQUESTED: frozenset({Status.ACCEPTED, Status.DECLINED, Status.CANCELLED, Status.ESCALATED,
                                 Status.EXPIRED, Status.REQUESTED}),
    Status.ESCALATED: frozenset({Status.ACCEPTED, Status.DECLINED, Status.CANCELLED, Status.EXPIRED,
                                 Status.REQUESTED}),
    Status.ACCEPTED: frozenset({Status.SCHEDULED, Status.IN_PROGRESS, Status.REPORTED, Status.CANCELLED,
                                Status.ESCALATED}),
    Status.SCHEDULED: frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.REPORTED}),
    Status.REPORTED: frozenset({Status.CLOSED}),
    Status.DECLINED: frozenset({Status.REQUESTED, Status.CLOSED}),
    Status.EXPIRED: frozenset({Status.REQUESTED, Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}
# The timestamp each state sets when the act enters it.
TIMESTAMP_OF = {
    Status.ACCEPTED: "accepted_at", Status.SCHEDULED: "scheduled_at", Status.IN_PROGRESS: "started_at",
    Status.REPORTED: "reported_at", Status.CLOSED: "closed_at", Status.DECLINED: "declined_at",
    Status.CANCELLED: "cancelled_at", Status.ESCALATED: "escalated_at", Status.EXPIRED: "expired_at",
}
# Acts a teleconsultation needs a live call for; the others are answered asynchronously.
SYNCHRONOUS = (Kind.TELECONSULTATION, Kind.TELEASSISTANCE)


# --- Attachments: what may be uploaded -------------------------------------------------------------------

@dataclass(frozen=True)
class FileRule:
    formats: tuple[files.Format, ...]
    max_bytes: int


FILE_RULES = {
    Attachment.Category.PHOTO: FileRule((files.JPEG, files.PNG, files.WEBP, files.DICOM_PHOTO), 10 * files.MB),
    Attachment.Category.DOCUMENT: FileRule((files.PDF, files.JPEG, files.PNG, files.WEBP), 20 * files.MB),
    # ECG: a PDF or image print-out, HL7 aECG (XML), DICOM waveform, SCP-ECG, or a WFDB record (.hea and .dat).
    Attachment.Category.ECG: FileRule((files.PDF, files.JPEG, files.PNG, files.HL7_AECG, files.DICOM_ECG,
                                       files.SCP_ECG, files.WFDB_HEADER, files.WFDB_SIGNALS), 20 * files.MB),
    # A call recorded in the browser (only where the deployment enables it, with the patient's consent).
    Attachment.Category.RECORDING: FileRule((files.WEBM,), 200 * files.MB),
}


@dataclass
class Upload:
    """A file to attach: its name and content type as the client gave them, its content (a Django File, on disk
    when large, read in chunks), its category and the input it came in (named in errors); ``format`` is what
    ``check_uploads`` found the content to be."""

    name: str
    content_type: str
    file: File
    category: str
    field: str = "attachments"
    format: files.Format | None = dataclasses.field(default=None, init=False)

    @classmethod
    def from_uploaded(cls, uploaded, category: str, field: str = "attachments") -> "Upload":
        """From a Django UploadedFile (form or API), without reading it."""
        return cls(files.display_name(uploaded.name), files.declared_type(uploaded.content_type), uploaded, category,
                   field)


def check_upload(upload: Upload, announced: dict[str, int | None] | None = None) -> None:
    """Refuse a file of the wrong category, type, content or size, naming its input and the file."""
    rule = FILE_RULES.get(upload.category)
    if rule is None:
        raise ValidationError({upload.field: _("%(file)s: choose photo, document or ECG.") % {"file": upload.name}})
    try:
        upload.format = files.check_file(upload.file, name=upload.name, declared=upload.content_type,
                                         accepted=rule.formats, max_bytes=rule.max_bytes,
                                         accepted_as=Attachment.Category(upload.category).label, announced=announced)
    except ValidationError as error:
        raise ValidationError({upload.field: error.messages})


def check_uploads(uploads: list[Upload], *, in_call: bool = False) -> None:
    """Check each file; a WFDB signal file passes when a header among the ECG files names it. A call's recording
    comes from its room alone (``in_call``), where the patient's consent to it was checked."""
    for upload in uploads:
        if upload.category == Attachment.Category.RECORDING and not in_call:
            raise ValidationError({upload.field: _("%(file)s: a call's recording is saved from the call room only.")
                                   % {"file": upload.name}})
    announced = {}
    for upload in uploads:
        if upload.category == Attachment.Category.ECG:
            announced.update(files.wfdb_signal_files(files.head(upload.file), upload.file.size) or {})
    for upload in uploads:
        check_upload(upload, announced)


def _store(act, upload: Upload, staff, communication=None) -> Attachment:
    # Stored under a name the server chooses (the content's hash, see attachment_path) with the extension of the
    # format found, never the client's; the client's name is kept for display.
    attachment = Attachment(act=act, communication=communication, category=upload.category, filename=upload.name,
                            content_type=upload.format.media_type, size=upload.file.size,
                            sha256=files.sha256(upload.file), uploaded_by=staff)
    attachment.file.save(f"upload.{upload.format.extension}", upload.file, save=False)
    attachment.save()
    return attachment


# --- Shared checks -----------------------------------------------------------------------------------------

def _staff(actor) -> StaffMember:
    return gate.staff_of(actor, Perm.VIEW_ACT, message=_("Only staff members can take part in telemedicine acts."))


def _authorize(actor, target, perm: Perm, action: str, *, in_scope: bool | None = None) -> None:
    """Check access before the transaction (once per request: a page that asked already is answered at once)."""
    gate.require(actor, perm, target, audit_action=action, in_scope=in_scope,
                 message=_("You may not do this for this telemedicine act."))


def _record_perm(in_call: bool) -> Perm:
    """Who may add to an act's record: its readers, or, during its call, those the call admitted (the requesting
    site's nurse takes part in the call without reading the act's pages); the calling app checks that they are
    participants before it passes ``in_call``."""
    return Perm.JOIN_CALL if in_call else Perm.VIEW_ACT


def _locked(act: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().get(pk=act.pk)


def _check_transition(act: ServiceRequest, to: str) -> None:
    if to not in TRANSITIONS.get(act.status, frozenset()):
        _refuse(act, to)


def _refuse(act: ServiceRequest, to: str) -> None:
    raise TransitionError(_("An act that is “%(current)s” cannot become “%(next)s”.") % {
        "current": act.get_status_display(), "next": Status(to).label if to in Status.values else to},
        code="invalid_transition")


def _move(act: ServiceRequest, to: str, *, staff, now, reason: str = "") -> StatusTransition:
    """Change the act's state (already locked and checked) and append the transition."""
    _check_transition(act, to)
    previous = act.status
    act.status = to
    if to in TIMESTAMP_OF:
        setattr(act, TIMESTAMP_OF[to], now)
    if reason:
        act.status_reason = reason[:255]
    act.save()
    return StatusTransition.objects.create(act=act, hub_id=act.hub_id, from_status=previous, to_status=to,
                                           actor=staff, at=now, reason=reason[:255])


def _join(act, staff, role: str, now) -> None:
    Participant.objects.get_or_create(act=act, staff=staff, role=role, defaults={"joined_at": now})


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _finish(actor, act, action: str, event: str, detail: dict | None = None, also_hubs=()) -> None:
    do_record_audit(actor=actor, action=action, target=act, site=act.requesting_site, detail=detail)
    publish_act(act, event, also_hubs=also_hubs)


def _active_consent(patient, kind: str) -> Consent:
    """The consent a request relies on: the latest active one covering its act (require_consent said there is)."""
    today = timezone.localdate()
    for consent in patient_consents(patient).order_by("-obtained_at"):
        if kind in consent.acts and consent.status_on(today) == "active":
            return consent
    raise ValidationError(_("No valid consent to this act."), code="consent_required")


def _route_step(step: routing_rules.Step, *, reason: str = "", by: str = "", at=None) -> dict:
    data = step.as_dict()
    data.update(reason=reason, by=by, at=at.isoformat() if at else "")
    return data


# --- Requesting ----------------------------------------------------------------------------------------------

class OutsideServiceLevel(ValidationError):
    """No hub can answer the request within its service level, and the GP has not chosen to send it anyway."""


def do_request_act(*, actor, encounter: Encounter, kind: str, specialty: Specialty | str, priority: str,
                   question: str, complex_case: bool = False, uploads: list[Upload] = (),
                   send_anyway: bool = True, observable: bool = False) -> ServiceRequest:
    """Ask for a telemedicine act about the patient of a visit; refused without a valid consent to that act, and,
    unless ``send_anyway``, when no hub has a specialist of the specialty on the roster before the answer is due."""
    _authorize(actor, encounter, Perm.REQUEST_ACT, "telemed.request_act")
    staff = _staff(actor)
    errors = {}
    if kind not in Kind.values:
        errors["kind"] = _("Act: choose teleconsultation, tele-expertise, remote assistance or remote monitoring.")
    if priority not in Priority.values:
        errors["priority"] = _("Priority: choose urgent, priority or routine.")
    if not (question or "").strip():
        errors["question"] = _("Clinical question: say what you ask the specialist.")
    specialty_code = specialty.pk if isinstance(specialty, Specialty) else specialty
    specialty = Specialty.objects.filter(pk=specialty_code).first()
    if specialty is None:
        errors["specialty"] = _("Specialty: unknown.")
    if complex_case and kind != Kind.TELEEXPERTISE:
        errors["complex_case"] = _("Complex case: only tele-expertise requests go to the national centre this way.")
    if errors:
        raise ValidationError(errors)
    check_uploads(uploads)
    patient = encounter.patient
    require_consent(patient, act=kind)
    consent = _active_consent(patient, kind)
    # Routed on the hubs' rosters as they stand now; a route outside the service level is sent all the same
    # (the pages and the API warned the GP before), its steps saying so.
    snapshot = selectors.network_snapshot()
    route = selectors.route_for(encounter.site, kind=kind, specialty=specialty.pk, priority=priority,
                                complex_case=complex_case, snapshot=snapshot)
    if not route.within_service_level and not send_anyway:
        raise OutsideServiceLevel({"send_anyway": _(
            "No hub can answer within the service level: send anyway, or change the priority.")},
            code="outside_service_level")
    now = snapshot.now
    with action_transaction():
        act = ServiceRequest.objects.create(
            kind=kind, patient=patient, encounter=encounter, consent=consent, requesting_site=encounter.site,
            requester=staff, specialty=specialty, priority=priority, question=question.strip(),
            complex_case=complex_case, hub_id=uuid.UUID(route.hub.id), observable=bool(observable),
            route=[_route_step(step, at=now) for step in route.steps], status=Status.REQUESTED,
            requested_at=now, due_at=snapshot.deadline(priority))
        StatusTransition.objects.create(act=act, hub_id=act.hub_id, from_status="", to_status=Status.REQUESTED,
                                        actor=staff, at=now)
        _join(act, staff, Participant.Role.REQUESTER, now)
        for upload in uploads:
            _store(act, upload, staff)
        _finish(actor, act, "telemed.request_act", "telemed.requested",
                {"kind": kind, "specialty": specialty.pk, "priority": priority, "hub": route.hub.id,
                 "within_service_level": route.within_service_level, "consent": str(consent.pk),
                 "attachments": len(uploads)})
    return act


def do_attach(*, actor, act: ServiceRequest, uploads: list[Upload], in_call: bool = False) -> list[Attachment]:
    """Add files (photos, documents, ECGs) to an act that is still open (``in_call``: from its call)."""
    _authorize(actor, act, _record_perm(in_call), "telemed.attach")
    staff = _staff(actor)
    if not uploads:
        raise ValidationError({"attachments": _("Attachments: choose at least one file.")})
    check_uploads(uploads, in_call=in_call)
    with transaction.atomic(durable=True):
        act = _locked(act)
        if act.status in (Status.CLOSED, Status.CANCELLED):
            raise TransitionError(_("This act is over; files can no longer be added."))
        stored = [_store(act, upload, staff) for upload in uploads]
        _finish(actor, act, "telemed.attach", "telemed.attachment",
                {"files": [a.sha256 for a in stored], **({"in_call": True} if in_call else {})})
    return stored


# --- The hub's answers ----------------------------------------------------------------------------------------

def _answer(*, actor, act, to: str, action: str, event: str, reason: str = "", permission=Perm.ANSWER_ACT,
            detail=None, only_from=None) -> ServiceRequest:
    """A state change made by the hub: the first one stops the service-level timer."""
    _authorize(actor, act, permission, action)
    staff = _staff(actor)
    with transaction.atomic(durable=True):
        act = _locked(act)
        now = timezone.now()
        awaiting = act.status in AWAITING_ANSWER
        if only_from is not None and act.status not in only_from:
            _refuse(act, to)
        _move(act, to, staff=staff, now=now, reason=reason)
        if awaiting and act.first_answered_at is None:
            act.first_answered_at = now
        if to == Status.ACCEPTED:
            act.assignee = staff
            _join(act, staff, Participant.Role.RESPONDER, now)
        act.save()
        _finish(actor, act, action, event, {"to": to, **({"reason": reason} if reason else {}), **(detail or {})})
    return act


def do_accept(*, actor, act: ServiceRequest) -> ServiceRequest:
    """The specialist takes the act."""
    return _answer(actor=actor, act=act, to=Status.ACCEPTED, action="telemed.accept", event="telemed.accepted",
                   only_from=AWAITING_ANSWER)


def do_decline(*, actor, act: ServiceRequest, reason: str) -> ServiceRequest:
    """The specialist declines the act, saying why (a coordinator may then reassign it)."""
    reason = _required_text(reason, "reason", _("Reason: say why the request is declined."))
    return _answer(actor=actor, act=act, to=Status.DECLINED, action="telemed.decline", event="telemed.declined",
                   reason=reason)


def do_escalate(*, actor, act: ServiceRequest, reason: str) -> ServiceRequest:
    """Send the act up to the national expertise centre, saying why; its timer restarts there."""
    reason = _required_text(reason, "reason", _("Reason: say why the case needs the national centre."))
    _authorize(actor, act, Perm.ANSWER_ACT, "telemed.escalate")
    staff = _staff(actor)
    hub = Site.objects.get(pk=act.hub_id)
    step = routing_rules.escalation_target(current_hub_kind=hub.kind, specialty=act.specialty_id,
                                           network=selectors.network_snapshot().network_for(act.requesting_site))
    with transaction.atomic(durable=True):
        act = _locked(act)
        now = timezone.now()
        previous_hub = act.hub_id
        if act.first_answered_at is None:
            act.first_answered_at = now
        _move(act, Status.ESCALATED, staff=staff, now=now, reason=reason)
        act.hub_id, act.assignee = uuid.UUID(step.hub_id), None
        act.route = [*act.route, _route_step(step, reason=reason, by=staff.full_name, at=now)]
        act.due_at = sla.answer_due(act.priority, now)
        act.save()
        _finish(actor, act, "telemed.escalate", "telemed.escalated",
                {"from_hub": str(previous_hub), "to_hub": step.hub_id, "reason": reason}, also_hubs=[previous_hub])
    return act


def do_reassign(*, actor, act: ServiceRequest, hub: Site, reason: str) -> ServiceRequest:
    """A coordinator sends the act to another hub offering its specialty; it waits there as a new request."""
    reason = _required_text(reason, "reason", _("Reason: say why the request is reassigned."))
    _authorize(actor, act, Perm.REASSIGN_ACT, "telemed.reassign")
    staff = _staff(actor)
    if hub.kind not in Site.HUB_KINDS or not hub.specialties.filter(pk=act.specialty_id).exists():
        raise ValidationError({"hub": _("Hub: choose a hub that offers this specialty.")})
    if hub.pk == act.hub_id and act.status in AWAITING_ANSWER:
        raise ValidationError({"hub": _("Hub: the request is already waiting there.")})
    with transaction.atomic(durable=True):
        act = _locked(act)
        now = timezone.now()
        previous_hub = act.hub_id
        _move(act, Status.REQUESTED, staff=staff, now=now, reason=reason)
        step = routing_rules.Step("reassigned", str(hub.pk), hub.name, act.specialty_id, True,
                                  hub_name_ar=hub.name_ar)
        act.hub, act.assignee = hub, None
        act.route = [*act.route, _route_step(step, reason=reason, by=staff.full_name, at=now)]
        act.due_at = sla.answer_due(act.priority, now)
        act.save()
        _join(act, staff, Participant.Role.COORDINATOR, now)
        _finish(actor, act, "telemed.reassign", "telemed.reassigned",
                {"from_hub": str(previous_hub), "to_hub": str(hub.pk), "reason": reason}, also_hubs=[previous_hub])
    return act


def do_start(*, actor, act: ServiceRequest) -> ServiceRequest:
    """The call (or the work on the file) begins."""
    return _answer(actor=actor, act=act, to=Status.IN_PROGRESS, action="telemed.start", event="telemed.started")


# States in which a synchronous act's call can take place (booked, accepted, or under way).
CALLABLE = (Status.ACCEPTED, Status.SCHEDULED, Status.IN_PROGRESS)


def do_mark_patient_ready(*, actor, act: ServiceRequest) -> ServiceRequest:
    """The requesting site says the patient is in front of the camera: the specialist's worklist shows it live."""
    _authorize(actor, act, Perm.JOIN_CALL, "telemed.patient_ready")
    staff = _staff(actor)
    if staff.role not in (Role.GP, Role.NURSE):
        gate.refuse(actor, Perm.JOIN_CALL, act, reason="not the requesting site's staff",
                    audit_action="telemed.patient_ready",
                    message=_("Only the requesting site's staff say that the patient is ready."))
    with transaction.atomic(durable=True):
        act = _locked(act)
        if act.kind not in SYNCHRONOUS or act.status not in CALLABLE:
            raise TransitionError(_("Only an accepted or booked teleconsultation or remote assistance has a call."))
        act.patient_ready_at = timezone.now()
        act.save()
        _join(act, staff, Participant.Role.SITE_STAFF, act.patient_ready_at)
        _finish(actor, act, "telemed.patient_ready", "telemed.patient_ready")
    return act


def do_set_observable(*, actor, act: ServiceRequest, observable: bool) -> ServiceRequest:
    """Let a coordinator of the area observe the act's call, or no longer: the requesting site's doctor or the
    specialist of the act decides."""
    staff = _staff(actor)
    if staff.role == Role.GP:
        _authorize(actor, act, Perm.REQUEST_ACT, "telemed.set_observable")
    else:
        _authorize(actor, act, Perm.ANSWER_ACT, "telemed.set_observable")
        if staff.role != Role.SPECIALIST or act.assignee_id not in (None, staff.pk):
            gate.refuse(actor, Perm.ANSWER_ACT, act, reason="not the act's specialist",
                        audit_action="telemed.set_observable",
                        message=_("Only the requesting doctor or the act's specialist decides who observes."))
    with transaction.atomic(durable=True):
        act = _locked(act)
        if act.status in (Status.CLOSED, Status.CANCELLED, Status.REPORTED):
            raise TransitionError(_("This act's call is over."))
        act.observable = bool(observable)
        act.save()
        _finish(actor, act, "telemed.set_observable", "telemed.observable", {"observable": act.observable})
    return act


def do_cancel(*, actor, act: ServiceRequest, reason: str) -> ServiceRequest:
    """The requesting site withdraws its request, saying why."""
    reason = _required_text(reason, "reason", _("Reason: say why the request is cancelled."))
    _authorize(actor, act, Perm.REQUEST_ACT, "telemed.cancel")
    staff = _staff(actor)
    with transaction.atomic(durable=True):
        act = _locked(act)
        now = timezone.now()
        _move(act, Status.CANCELLED, staff=staff, now=now, reason=reason)
        Appointment.objects.filter(act=act, status=Appointment.Status.BOOKED).update(
            status=Appointment.Status.CANCELLED, cancel_reason=reason[:255], updated_at=now)
        _finish(actor, act, "telemed.cancel", "telemed.cancelled", {"reason": reason})
    return act


def do_close(*, actor, act: ServiceRequest) -> ServiceRequest:
    """The requesting GP acknowledges the report (or a declined/expired request is given up): the act is over."""
    _authorize(actor, act, Perm.VIEW_ACT, "telemed.close")
    staff = _staff(actor)
    with transaction.atomic(durable=True):
        act = _locked(act)
        _move(act, Status.CLOSED, staff=staff, now=timezone.now())
        _finish(actor, act, "telemed.close", "telemed.closed")
    return act


def do_expire_overdue(*, now: datetime.datetime | None = None) -> list[ServiceRequest]:
    """Expire the requests left unanswered past their priority's expiry time (run periodically)."""
    now = now or timezone.now()
    table = sla.levels()
    expired = []
    for priority, level in table.items():
        # due_at = waiting since + answer time, so "waiting since + expire time" is due_at + the difference.
        cutoff = now - (level.expire - level.answer)
        candidates = ServiceRequest.objects.filter(status__in=AWAITING_ANSWER, priority=priority, due_at__lte=cutoff)
        for pk in candidates.values_list("pk", flat=True):
            with transaction.atomic(durable=True):
                act = (ServiceRequest.objects.select_for_update(of=("self",), no_key=True)
                       .select_related("requesting_site").get(pk=pk))
                if act.status not in AWAITING_ANSWER or act.due_at > cutoff:
                    continue
                _move(act, Status.EXPIRED, staff=None, now=now, reason=_("No answer within the service level."))
                _finish(None, act, "telemed.expire", "telemed.expired",
                        {"due_at": act.due_at.isoformat(), "priority": priority})
            expired.append(act)
    return expired


# --- Rosters and bookings -----------------------------------------------------------------------------------

def do_open_slot(*, actor, hub: Site, start: datetime.datetime, end: datetime.datetime) -> Slot:
    """A specialist makes a period at their hub bookable for teleconsultations."""
    staff = _staff(actor)
    in_scope = staff.role == Role.SPECIALIST and Site.objects.restrict(actor, Perm.MANAGE_ROSTER).filter(pk=hub.pk).exists()
    _authorize(actor, hub, Perm.MANAGE_ROSTER, "telemed.open_slot", in_scope=in_scope)
    if end <= start:
        raise ValidationError({"end": _("End: must come after the start.")})
    if end - start > datetime.timedelta(hours=12):
        raise ValidationError({"end": _("End: a slot lasts at most 12 hours.")})
    with transaction.atomic(durable=True):
        overlapping = Slot.objects.select_for_update().filter(specialist=staff, active=True, start__lt=end,
                                                              end__gt=start)
        if overlapping.exists():
            raise ValidationError({"start": _("Start: this period overlaps another of your slots.")})
        slot = Slot.objects.create(specialist=staff, hub=hub, specialty_id=staff.specialty_id, start=start, end=end)
        do_record_audit(actor=actor, action="telemed.open_slot", target=slot, site=hub,
                        detail={"start": start.isoformat(), "end": end.isoformat()})
    return slot


def do_withdraw_slot(*, actor, slot: Slot) -> Slot:
    """A specialist withdraws a slot nobody has booked."""
    _authorize(actor, slot, Perm.MANAGE_ROSTER, "telemed.withdraw_slot")
    with transaction.atomic(durable=True):
        slot = Slot.objects.select_for_update().get(pk=slot.pk)
        if slot.appointments.filter(status=Appointment.Status.BOOKED).exists():
            raise ValidationError(_("This slot is booked: cancel the appointment first."))
        slot.active = False
        slot.save()
        do_record_audit(actor=actor, action="telemed.withdraw_slot", target=slot, site=slot.hub)
    return slot


def do_book(*, actor, act: ServiceRequest, slot: Slot) -> Appointment:
    """Book the act's teleconsultation in a free slot of its hub and specialty: the site sees when the call comes."""
    _authorize(actor, act, Perm.ANSWER_ACT, "telemed.book")
    staff = _staff(actor)
    if slot.hub_id != act.hub_id or slot.specialty_id != act.specialty_id or not slot.active:
        raise ValidationError({"slot": _("Slot: choose an open slot of this hub in this specialty.")})
    if slot.end <= timezone.now():
        raise ValidationError({"slot": _("Slot: this period is over.")})
    try:
        with transaction.atomic(durable=True):
            act = _locked(act)
            now = timezone.now()
            _move(act, Status.SCHEDULED, staff=staff, now=now)
            appointment = Appointment.objects.create(act=act, slot=slot, specialist=slot.specialist,
                                                     start=slot.start, end=slot.end, booked_by=staff)
            _join(act, slot.specialist, Participant.Role.RESPONDER, now)
            _finish(actor, act, "telemed.book", "telemed.booked",
                    {"appointment": str(appointment.pk), "start": slot.start.isoformat()})
    except IntegrityError:
        raise ValidationError({"slot": _("Slot: already booked; choose another.")})
    return appointment


def do_cancel_appointment(*, actor, appointment: Appointment, reason: str) -> Appointment:
    """Cancel a booking, saying why; the act goes back to accepted, to be booked again."""
    reason = _required_text(reason, "reason", _("Reason: say why the appointment is cancelled."))
    _authorize(actor, appointment.act, Perm.VIEW_ACT, "telemed.cancel_appointment")
    staff = _staff(actor)
    with transaction.atomic(durable=True):
        act = _locked(appointment.act)
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status != Appointment.Status.BOOKED:
            raise TransitionError(_("This appointment is no longer booked."))
        appointment.status, appointment.cancel_reason = Appointment.Status.CANCELLED, reason[:255]
        appointment.save()
        if act.status == Status.SCHEDULED:
            _move(act, Status.ACCEPTED, staff=staff, now=timezone.now(), reason=reason)
        _finish(actor, act, "telemed.cancel_appointment", "telemed.appointment_cancelled",
                {"appointment": str(appointment.pk), "reason": reason})
    return appointment


# --- Conversation and incidents ---------------------------------------------------------------------------

def do_send_message(*, actor, act: ServiceRequest, text: str, in_response_to: Communication | None = None,
                    information_request: bool = False, uploads: list[Upload] = (),
                    in_call: bool = False) -> Communication:
    """Post a message in the act's conversation, with files (``in_call``: from its call); a hub's request for
    information answers the request."""
    text = _required_text(text, "text", _("Message: write something."))
    check_uploads(uploads)
    if in_response_to is not None and in_response_to.act_id != act.pk:
        raise ValidationError({"in_response_to": _("Reply: the message belongs to another act.")})
    _authorize(actor, act, _record_perm(in_call), "telemed.message")
    staff = _staff(actor)
    hub_side = actor.has_perm(Perm.ANSWER_ACT) and staff.role == Role.SPECIALIST
    if information_request and not hub_side:
        raise ValidationError({"information_request": _("Only the specialist asks for more information.")})
    if information_request:
        category = Communication.Category.INFORMATION_REQUEST
    elif in_response_to is not None and in_response_to.category == Communication.Category.INFORMATION_REQUEST:
        category = Communication.Category.INFORMATION_REPLY
    else:
        category = Communication.Category.MESSAGE
    with action_transaction():
        act = _locked(act)
        if act.status in (Status.CLOSED, Status.CANCELLED):
            raise TransitionError(_("This act is over; its conversation is closed."))
        now = timezone.now()
        message = Communication.objects.create(act=act, in_response_to=in_response_to, sender=staff,
                                               category=category, text=text, sent_at=now)
        for upload in uploads:
            _store(act, upload, staff, communication=message)
        if hub_side and act.status in AWAITING_ANSWER and act.first_answered_at is None:
            act.first_answered_at = now
            act.save()
        _join(act, staff, Participant.Role.RESPONDER if hub_side else Participant.Role.SITE_STAFF, now)
        do_record_audit(actor=actor, action="telemed.message", target=act, site=act.requesting_site,
                        detail={"communication": str(message.pk), "category": category, "attachments": len(uploads)})
        publish_act(act, "telemed.message", communication=str(message.pk), category=category)
    return message


def do_report_incident(*, actor, act: ServiceRequest, category: str, description: str,
                       occurred_at: datetime.datetime | None = None, in_call: bool = False) -> TechnicalIncident:
    """Record a technical incident during the act (either side; ``in_call``: reported by a page of its call)."""
    if category not in TechnicalIncident.Category.values:
        raise ValidationError({"category": _("Incident: choose its kind.")})
    description = _required_text(description, "description", _("Description: say what happened."))
    _authorize(actor, act, _record_perm(in_call), "telemed.incident")
    staff = _staff(actor)
    with transaction.atomic(durable=True):
        act = _locked(act)
        incident = TechnicalIncident.objects.create(act=act, reporter=staff, category=category,
                                                    description=description,
                                                    occurred_at=occurred_at or timezone.now())
        _finish(actor, act, "telemed.incident", "telemed.incident", {"category": category})
    return incident


# --- The report -------------------------------------------------------------------------------------------------

REPORT_FIELDS = ("findings", "icd10_code", "diagnosis_text", "recommendations", "prescriptions", "follow_up")


# Medication lines a report may carry (a visit's prescription is rarely longer).
MAX_MEDICATION_LINES = 20


def checked_medication_lines(lines) -> list[dict]:
    """A report's medication lines checked by care's prescription rules, as stored (JSON: the dose as text).

    Every wrong line is named, with its number, in one ValidationError under ``medication_lines``.
    """
    lines = list(lines or [])
    if len(lines) > MAX_MEDICATION_LINES:
        raise ValidationError({"medication_lines": _("At most %(count)d medication lines.")
                               % {"count": MAX_MEDICATION_LINES}})
    stored, errors = [], []
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            errors.append(_("Line %(number)d: not a medication line.") % {"number": number})
            continue
        line = {name: line.get(name, "") for name in care_actions.LINE_FIELDS if name in line}
        try:
            fields = care_actions.prescription_fields(**{"route": "", "duration_days": None, "medication": "",
                                                         **line})
        except ValidationError as error:
            errors.extend(_("Line %(number)d: %(message)s") % {"number": number, "message": message}
                          for messages in error.message_dict.values() for message in messages)
            continue
        fields["dose_value"] = None if fields["dose_value"] is None else str(fields["dose_value"])
        stored.append(fields)
    if errors:
        raise ValidationError({"medication_lines": errors})
    return stored


def _prescribable(act: ServiceRequest, lines: list) -> None:
    """Lines become prescriptions of the act's visit: refused when the act has none, or its note is signed."""
    if lines and (act.encounter_id is None or act.encounter.is_signed):
        raise ValidationError({"medication_lines": _(
            "Medication lines become prescriptions of the patient's visit, which is closed or unknown: "
            "write them in the prescriptions text instead.")})


def do_save_report(*, actor, act: ServiceRequest, performed_at: datetime.datetime | None = None,
                   icd10_category: bool = False, medication_lines: list | None = None,
                   **fields) -> DiagnosticReport:
    """Write (or rewrite) the draft report of an accepted act; signing freezes it. An ICD-10 category with
    subdivisions is coded only when ``icd10_category`` says it is meant; ``medication_lines`` (care's
    prescription fields) replace the draft's lines."""
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown report field.") for name in sorted(unknown)})
    values = {name: (fields.get(name) or "").strip() for name in REPORT_FIELDS}
    entry = icd10.coded(values["icd10_code"], category=icd10_category) if values["icd10_code"] else None
    lines = checked_medication_lines(medication_lines)
    _authorize(actor, act, Perm.ANSWER_ACT, "telemed.save_report")
    staff = _staff(actor)
    with transaction.atomic(durable=True):
        act = _locked(act)
        if act.status not in (Status.ACCEPTED, Status.SCHEDULED, Status.IN_PROGRESS):
            raise TransitionError(_("A report is written once the act is accepted and until it is signed."))
        report = DiagnosticReport.objects.filter(act=act).first()
        if report is not None and report.is_signed:
            raise TransitionError(_("This report is signed; add an amendment instead."))
        _prescribable(act, lines)
        report = report or DiagnosticReport(act=act, patient_id=act.patient_id)
        report.author = staff
        report.medication_lines = lines
        report.performed_at = performed_at or report.performed_at or act.started_at or timezone.now()
        for name in REPORT_FIELDS:
            setattr(report, name, values[name])
        report.icd10_code = entry.code if entry else ""
        report.icd10_label = entry.label_in() if entry else ""
        report.save()
        do_record_audit(actor=actor, action="telemed.save_report", target=act, site=act.requesting_site,
                        detail={"report": str(report.pk)})
    return report


def do_sign_report(*, actor, act: ServiceRequest) -> DiagnosticReport:
    """Sign the report: it is filed in the patient's chart, frozen, and the act becomes reported."""
    _authorize(actor, act, Perm.ANSWER_ACT, "telemed.sign_report")
    staff = _staff(actor)
    with transaction.atomic(durable=True):
        act = _locked(act)
        report = DiagnosticReport.objects.select_for_update().filter(act=act).first()
        if report is None:
            raise ValidationError(_("Write the report before signing it."))
        if report.is_signed:
            raise TransitionError(_("This report is already signed."))
        errors = {}
        if not report.findings:
            errors["findings"] = _("Findings: describe what you found.")
        if not (report.icd10_code or report.diagnosis_text):
            errors["diagnosis_text"] = _("Diagnosis: give an ICD-10 code or a diagnosis in words.")
        if not report.recommendations:
            errors["recommendations"] = _("Recommendations: say what the site should do.")
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        _join(act, staff, Participant.Role.RESPONDER, now)
        _move(act, Status.REPORTED, staff=staff, now=now)
        report.participants = [
            {"name": p.staff.full_name, "role": p.role, "staff_role": p.staff.role,
             "registration_number": p.staff.registration_number}
            for p in act.participants.select_related("staff").order_by("joined_at")]
        report.incidents = [
            {"category": i.category, "description": i.description, "occurred_at": i.occurred_at.isoformat()}
            for i in act.incidents.order_by("occurred_at")]
        report.call = call_summary(act)
        report.signed_at, report.signed_by = now, staff
        report.save()
        prescribed = _prescribe_lines(act, report, staff)
        _finish(actor, act, "telemed.sign_report", "telemed.reported",
                {"report": str(report.pk), "prescriptions": [str(pk) for pk in prescribed]})
    return report


def _prescribe_lines(act: ServiceRequest, report: DiagnosticReport, staff) -> list:
    """The signed report's medication lines written as prescriptions of the act's visit, each linked back."""
    if not report.medication_lines:
        return []
    _prescribable(act, report.medication_lines)
    requests = care_actions.prescribe_within(encounter=act.encounter, recorder=staff, lines=report.medication_lines)
    ReportPrescription.objects.bulk_create([
        ReportPrescription(report=report, medication_request=request, position=position)
        for position, request in enumerate(requests, start=1)])
    return [request.pk for request in requests]


def do_amend_report(*, actor, report: DiagnosticReport, reason: str, text: str) -> ReportAmendment:
    """Correct a signed report by an amendment (the report itself never changes)."""
    reason = _required_text(reason, "reason", _("Reason: say why the report is amended."))
    text = _required_text(text, "text", _("Amendment: write the correction."))
    _authorize(actor, report.act, Perm.ANSWER_ACT, "telemed.amend_report")
    staff = _staff(actor)
    if not report.is_signed:
        raise ValidationError(_("The report is still a draft: change it directly."))
    with transaction.atomic(durable=True):
        amendment = ReportAmendment.objects.create(report=report, author=staff, reason=reason[:255], text=text)
        act = report.act
        _finish(actor, act, "telemed.amend_report", "telemed.report_amended", {"amendment": str(amendment.pk)})
    return amendment


def do_set_service_level(*, actor, priority: str, answer_minutes: int, expire_minutes: int) -> ServiceLevel:
    """Change a priority's service level (administrators)."""
    _authorize(actor, ("telemed.servicelevel", priority), Perm.CONFIGURE_TELEMED, "telemed.set_service_level",
               in_scope=True)
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Priority: choose urgent, priority or routine.")})
    if answer_minutes < 1:
        raise ValidationError({"answer_minutes": _("Answer time: at least one minute.")})
    if expire_minutes < answer_minutes:
        raise ValidationError({"expire_minutes": _("Expiry: not before the answer is due.")})
    with transaction.atomic(durable=True):
        level, _created = ServiceLevel.objects.update_or_create(
            priority=priority, defaults={"answer_minutes": answer_minutes, "expire_minutes": expire_minutes})
        do_record_audit(actor=actor, action="telemed.set_service_level", target=level,
                        detail={"answer_minutes": answer_minutes, "expire_minutes": expire_minutes})
    return level


def do_mark_read(*, actor, act: ServiceRequest, at: datetime.datetime | None = None) -> None:
    """Note that ``actor`` has seen the act as it stands (its page is open): its messages and report are read.

    One upsert and no audit row of its own: it records what a reader saw, which the page's audited read
    already says; the act itself does not change.
    """
    _authorize(actor, act, Perm.VIEW_ACT, "telemed.view_act")
    now = at or timezone.now()
    ReadMarker.objects.bulk_create([ReadMarker(act_id=act.pk, user_id=actor.pk, read_at=now)],
                                   update_conflicts=True, unique_fields=["user", "act"],
                                   update_fields=["read_at", "updated_at"])
