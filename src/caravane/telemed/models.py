"""Telemedicine acts of decree 2-18-378, with FHIR names.

A request for an act is a ``ServiceRequest``; its workflow state (FHIR Task.status) lives on it and every
change of state is appended to ``StatusTransition``. A booking is an ``Appointment`` in a specialist's
``Slot``; messages are ``Communication`` rows; files are ``Attachment`` rows; the specialist's answer is a
``DiagnosticReport``, immutable once signed and corrected by ``ReportAmendment`` rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from caravane.core.access import Perm
from caravane.core.models import AppendOnly, ImmutableRecordError, RestrictedQuerySet, UUIDModel
from caravane.core.text import (
    INCIDENT_MAX, MESSAGE_MAX, NOTE_MAX, SHORT_TEXT_MAX, FreeTextField, ShortTextField,
)


class Kind(models.TextChoices):
    # The codes are those of patients.Consent.Act, so that a request checks the consent to its own act.
    TELECONSULTATION = "teleconsultation", _("Teleconsultation")
    TELEEXPERTISE = "teleexpertise", _("Tele-expertise")
    TELEASSISTANCE = "teleassistance", _("Remote assistance")
    TELEMONITORING = "telemonitoring", _("Remote monitoring")


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    PRIORITY = "priority", pgettext_lazy("priority level", "Priority")  # an adjective: "prioritaire"
    ROUTINE = "routine", _("Routine")


PRIORITY_RANK = {Priority.URGENT: 0, Priority.PRIORITY: 1, Priority.ROUTINE: 2}


class Status(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    REPORTED = "reported", pgettext_lazy("act status", "Reported")  # the report was sent, not "flagged"
    CLOSED = "closed", _("Closed")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    ESCALATED = "escalated", _("Escalated")
    EXPIRED = "expired", _("Expired")


# Waiting for a first answer from the hub (the service-level timer runs).
AWAITING_ANSWER = (Status.REQUESTED, Status.ESCALATED)
# On a specialist's worklist: waiting for an answer, or accepted and not yet reported.
OPEN_STATUSES = (Status.REQUESTED, Status.ESCALATED, Status.ACCEPTED, Status.SCHEDULED, Status.IN_PROGRESS)


def act_scope_q(scope, prefix: str = "") -> Q:
    """Which acts a scope reaches: a specialist those routed to their hub in their specialty,
    a coordinator those of their territory (requesting site or hub), anyone else their sites' requests."""
    from caravane.core.access import Role

    p = f"{prefix}__" if prefix else ""
    if scope.role == Role.SPECIALIST:
        return Q(**{f"{p}hub_id__in": list(scope.site_ids),
                    f"{p}specialty__specialists__user_id": scope.user_id})
    condition = scope.site_q(f"{p}requesting_site")
    if scope.role == Role.COORDINATOR:
        condition |= scope.site_q(f"{p}hub")
    return condition


class ActScopedQuerySet(RestrictedQuerySet):
    """Rows that belong to an act are in scope with their act."""

    act_path = "act"

    def scope_filter(self, scope, action):
        return act_scope_q(scope, self.act_path)


class ServiceRequestQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, action):
        return act_scope_q(scope)


class ServiceLevel(models.Model):
    """The service-level targets of a priority (overrides the defaults in ``telemed.sla``)."""

    priority = models.CharField(max_length=10, choices=Priority.choices, primary_key=True)
    answer_minutes = models.PositiveIntegerField(help_text=_("A first answer is due within this many minutes"))
    expire_minutes = models.PositiveIntegerField(
        help_text=_("A request still unanswered after this many minutes expires"))

    class Meta:
        constraints = [models.CheckConstraint(name="service_level_expiry_after_answer",
                                              condition=Q(expire_minutes__gte=models.F("answer_minutes")))]

    def __str__(self):
        return f"{self.priority}: {self.answer_minutes} min"


class ServiceRequest(UUIDModel):
    """A telemedicine act requested by a site (FHIR ServiceRequest), with its workflow state (FHIR Task)."""

    kind = models.CharField(max_length=16, choices=Kind.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="telemed_requests")
    encounter = models.ForeignKey("care.Encounter", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="telemed_requests",
                                  help_text=_("The visit the request comes from: its vital signs and notes"))
    consent = models.ForeignKey("patients.Consent", on_delete=models.PROTECT, related_name="telemed_requests")
    requesting_site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="telemed_requests")
    requester = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="telemed_requested")
    specialty = models.ForeignKey("network.Specialty", on_delete=models.PROTECT, related_name="telemed_requests")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    rank = models.PositiveSmallIntegerField(default=2, help_text=_("Priority as a sortable number (0 = urgent)"))
    question = FreeTextField(_("clinical question"), max_length=MESSAGE_MAX)
    complex_case = models.BooleanField(_("specific or complex case"), default=False)
    hub = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="telemed_routed")
    route = models.JSONField(default=list, help_text=_("The routing steps taken, each with its rule and reason"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    assignee = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="telemed_assigned", help_text=_("The specialist who took the act"))
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text=_("A first answer is due by then"))
    first_answered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    patient_ready_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the site said the patient is ready for the call (waiting room)"))
    observable = models.BooleanField(
        _("a coordinator may observe the call"), default=False,
        help_text=_("Set by the requesting doctor or the specialist: a coordinator of the area may join the call, "
                    "receiving only"))
    status_reason = ShortTextField(max_length=SHORT_TEXT_MAX, blank=True,
                                    help_text=_("Why the act was last declined, cancelled, escalated or reassigned"))

    objects = ServiceRequestQuerySet.as_manager()

    class Meta:
        ordering = ["rank", "requested_at"]
        indexes = [
            # The worklist: open acts of a hub and specialty, most urgent then longest waiting first.
            models.Index(fields=["hub", "specialty", "rank", "requested_at"], name="telemed_worklist",
                         condition=Q(status__in=["requested", "escalated", "accepted", "scheduled", "in_progress"])),
            models.Index(fields=["requesting_site", "requested_at"], name="telemed_site_requests"),
            models.Index(fields=["hub", "specialty", "requested_at"], name="telemed_hub_requests"),
            # The expiry sweep: unanswered acts by due time.
            models.Index(fields=["due_at"], name="telemed_awaiting_due",
                         condition=Q(status__in=["requested", "escalated"])),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.specialty_id} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        self.rank = PRIORITY_RANK.get(self.priority, 2)
        super().save(*args, **kwargs)


class StatusTransition(AppendOnly):
    """One change of an act's state (FHIR Task history): who, when, from what to what and why."""

    act = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="transitions")
    hub = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+",
                            help_text=_("The hub holding the act when its state changed"))
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    actor = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", help_text=_("Empty for the system (expiry)"))
    at = models.DateTimeField()
    reason = ShortTextField(max_length=SHORT_TEXT_MAX, blank=True)

    objects = ActScopedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "created_at"]

    def __str__(self):
        return f"{self.act_id}: {self.from_status or '∅'} → {self.to_status}"


class Participant(UUIDModel):
    """A person taking part in an act (FHIR ServiceRequest.performer / Appointment.participant)."""

    class Role(models.TextChoices):
        REQUESTER = "requester", _("Requester")
        RESPONDER = "responder", _("Responder")
        SITE_STAFF = "site_staff", _("Staff with the patient")
        COORDINATOR = "coordinator", _("Coordinator")

    act = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="participants")
    staff = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="telemed_participations")
    role = models.CharField(max_length=12, choices=Role.choices)
    joined_at = models.DateTimeField()

    objects = ActScopedQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at"]
        constraints = [models.UniqueConstraint(fields=["act", "staff", "role"], name="telemed_participant_once")]

    def __str__(self):
        return f"{self.staff} ({self.role})"


class TechnicalIncident(AppendOnly):
    """A technical problem during an act (lost connection, unreadable file...)."""

    class Category(models.TextChoices):
        CONNECTIVITY = "connectivity", _("Connection lost or too slow")
        AUDIO_VIDEO = "audio_video", _("Audio or video failure")
        DEVICE = "device", _("Medical device failure")
        FILE = "file", _("Unreadable or missing file")
        OTHER = "other", _("Other")

    act = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="incidents")
    reporter = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=16, choices=Category.choices)
    description = FreeTextField(max_length=INCIDENT_MAX)
    occurred_at = models.DateTimeField()

    objects = ActScopedQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at"]

    def __str__(self):
        return f"{self.category}: {self.description[:40]}"


class Communication(AppendOnly):
    """A message inside an act's conversation (FHIR Communication), possibly answering another one."""

    class Category(models.TextChoices):
        MESSAGE = "message", _("Message")
        INFORMATION_REQUEST = "information_request", _("Request for more information")
        INFORMATION_REPLY = "information_reply", _("Additional information")

    act = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="communications")
    in_response_to = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="replies")
    sender = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.MESSAGE)
    text = FreeTextField(max_length=MESSAGE_MAX)
    sent_at = models.DateTimeField()

    objects = ActScopedQuerySet.as_manager()

    class Meta:
        ordering = ["sent_at", "created_at"]

    def __str__(self):
        return f"{self.sender}: {self.text[:40]}"


def attachment_path(instance, filename: str) -> str:
    """Files are stored under the act's id with the content hash as name (no user-chosen path)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"telemed/{instance.act_id}/{instance.sha256}.{extension}"


class Attachment(AppendOnly):
    """A file attached to an act or one of its messages: photo, document or ECG (FHIR Media/DocumentReference)."""

    class Category(models.TextChoices):
        PHOTO = "photo", _("Photo")
        DOCUMENT = "document", _("Document")
        ECG = "ecg", _("ECG recording")
        RECORDING = "recording", _("Call recording")

    act = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="attachments")
    communication = models.ForeignKey(Communication, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="attachments")
    category = models.CharField(max_length=10, choices=Category.choices)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=200, help_text=_("The name of the file as uploaded"))
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")

    objects = ActScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.filename


class SlotQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        own = Q(specialist__user_id=scope.user_id)
        if perm != Perm.MANAGE_ROSTER:
            # Sites book teleconsultations in them: a hub's availability is public within the network.
            return None
        return own


class Slot(UUIDModel):
    """A period a specialist is available for teleconsultations at a hub (FHIR Slot)."""

    specialist = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="telemed_slots")
    hub = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="telemed_slots")
    specialty = models.ForeignKey("network.Specialty", on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    active = models.BooleanField(default=True, help_text=_("Withdrawn slots stay on record, unbookable"))

    objects = SlotQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["hub", "specialty", "start"], name="telemed_slot_lookup")]
        constraints = [models.CheckConstraint(name="telemed_slot_ordered", condition=Q(end__gt=models.F("start")))]

    def __str__(self):
        return f"{self.specialist} {self.start:%Y-%m-%d %H:%M}"


class Appointment(UUIDModel):
    """A teleconsultation booked in a slot: when the specialist will call the site (FHIR Appointment)."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        FULFILLED = "fulfilled", _("Took place")
        CANCELLED = "cancelled", _("Cancelled")

    act = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="appointments")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    specialist = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    booked_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    cancel_reason = ShortTextField(max_length=SHORT_TEXT_MAX, blank=True)

    objects = ActScopedQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        constraints = [
            # One live booking per slot; a cancelled one frees it.
            models.UniqueConstraint(fields=["slot"], condition=Q(status="booked"), name="telemed_slot_booked_once"),
        ]

    def __str__(self):
        return f"{self.act_id} @ {self.start:%Y-%m-%d %H:%M}"


class DiagnosticReport(UUIDModel):
    """The specialist's report of an act (FHIR DiagnosticReport): a draft until signed, then frozen."""

    act = models.OneToOneField(ServiceRequest, on_delete=models.PROTECT, related_name="report")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="telemed_reports")
    author = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    findings = FreeTextField(_("findings"), max_length=NOTE_MAX, blank=True)
    icd10_code = models.CharField(_("diagnosis (ICD-10)"), max_length=8, blank=True)
    icd10_label = models.CharField(max_length=255, blank=True)
    diagnosis_text = ShortTextField(_("diagnosis"), max_length=SHORT_TEXT_MAX, blank=True)
    recommendations = FreeTextField(_("recommendations"), max_length=NOTE_MAX, blank=True)
    prescriptions = FreeTextField(_("prescriptions"), max_length=NOTE_MAX, blank=True)
    follow_up = FreeTextField(_("follow-up"), max_length=NOTE_MAX, blank=True)
    # Structured medication lines (care's prescription fields, checked by care); at signing each becomes a
    # prescription of the act's visit (see ReportPrescription).
    medication_lines = models.JSONField(default=list, blank=True)
    performed_at = models.DateTimeField(help_text=_("When the act took place"))
    # Names and roles of the participants and the incidents, frozen at signing as the signed document shows them.
    participants = models.JSONField(default=list)
    incidents = models.JSONField(default=list)
    # The live call (participants with roles and sites, start, end, duration), frozen at signing likewise.
    call = models.JSONField(default=dict, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")

    objects = ActScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_at"]
        indexes = [models.Index(fields=["patient", "signed_at"], name="telemed_report_chart")]

    def __str__(self):
        return f"Report of {self.act_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def save(self, *args, **kwargs):
        # Checked against the stored row, not the (possibly stale) instance.
        if not self._state.adding and DiagnosticReport.objects.filter(pk=self.pk, signed_at__isnull=False).exists():
            raise ImmutableRecordError("This report is signed; add an amendment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("Reports are never deleted.")


class ReportPrescriptionQuerySet(ActScopedQuerySet):
    act_path = "report__act"


class ReportPrescription(AppendOnly):
    """A medication line of a signed report and the visit's prescription (care MedicationRequest) it became."""

    report = models.ForeignKey(DiagnosticReport, on_delete=models.PROTECT, related_name="prescription_links")
    medication_request = models.OneToOneField("care.MedicationRequest", on_delete=models.PROTECT,
                                              related_name="telemed_report_link")
    position = models.PositiveSmallIntegerField()

    objects = ReportPrescriptionQuerySet.as_manager()

    class Meta:
        ordering = ["report", "position"]
        constraints = [models.UniqueConstraint(fields=["report", "position"], name="telemed_report_line_once")]

    def __str__(self):
        return f"Line {self.position} of {self.report_id}"


class AmendmentQuerySet(ActScopedQuerySet):
    act_path = "report__act"


class ReportAmendment(AppendOnly):
    """A correction to a signed report, with its reason."""

    report = models.ForeignKey(DiagnosticReport, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    reason = ShortTextField(max_length=SHORT_TEXT_MAX)
    text = FreeTextField(max_length=NOTE_MAX)

    objects = AmendmentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Amendment of {self.report_id}: {self.reason}"


class ReadMarker(UUIDModel):
    """When a user last opened an act's page: what came after (messages, a report) is new to them.

    One row per user and act, moved forward each time the page is shown; a reader's bookkeeping, not part of
    the act's record (the opening itself is audited as a read).
    """

    act = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="read_markers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    objects = ActScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "act"], name="telemed_read_marker_once")]

    def __str__(self):
        return f"{self.user_id} read {self.act_id} at {self.read_at:%Y-%m-%d %H:%M}"
