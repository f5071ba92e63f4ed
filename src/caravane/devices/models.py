"""The device registry (FHIR Device): every connected instrument a site or unit holds, and its upkeep."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caravane.core.models import RestrictedQuerySet, UUIDModel


class DeviceQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        return scope.site_q("site")


class Device(UUIDModel):
    """One physical instrument (FHIR Device): what it is, who made it, where it is, and whether it may be trusted."""

    class Status(models.TextChoices):
        # FHIR Device.status: active | inactive | entered-in-error
        ACTIVE = "active", _("In service")
        INACTIVE = "inactive", _("Out of service")
        ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")

    kind = models.ForeignKey("network.DeviceKind", on_delete=models.PROTECT, related_name="devices")
    manufacturer = models.CharField(_("maker"), max_length=120)
    model_name = models.CharField(_("model"), max_length=120)
    serial_number = models.CharField(_("serial number"), max_length=80)
    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="devices")
    firmware = models.CharField(_("firmware"), max_length=80, blank=True)
    calibration_due = models.DateField(_("calibration due"), null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # The visit the nurse is using it for now: readings without a patient of their own go there.
    in_use_for = models.ForeignKey("care.Encounter", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["site", "kind", "serial_number"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "model_name", "serial_number"], name="devices_one_serial"),
        ]

    def __str__(self):
        return f"{self.manufacturer} {self.model_name} #{self.serial_number}"

    @property
    def mqtt_topic(self) -> str:
        """The MQTT topic its readings are published to (see ``devices.topics``)."""
        from caravane.devices.topics import reading_topic

        return reading_topic(self.site.code, self.pk)

    def calibration_overdue(self, today: datetime.date | None = None) -> bool:
        """Whether the calibration due date has passed (a device with none recorded is not flagged)."""
        return self.calibration_due is not None and self.calibration_due < (today or timezone.localdate())


class ReadingQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        return scope.site_q("site")


class Reading(UUIDModel):
    """One measurement a device sent (FHIR Observation, status preliminary until a nurse confirms it).

    Kept as it arrived: the raw payload (GATT bytes, or the canonical JSON of a JSON reading), its SHA-256, the
    decoded values in the record's units and the device's measurement time. The message id makes ingestion
    idempotent: a message delivered twice (MQTT QoS 1 redelivers) is stored once.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed into the visit")
        DISMISSED = "dismissed", _("Dismissed")
        MONITORED = "monitored", _("Remote monitoring")

    class Channel(models.TextChoices):
        MQTT = "mqtt", _("Gateway (MQTT)")
        WEB_BLUETOOTH = "web_bluetooth", _("Tablet (Bluetooth)")

    message_id = models.CharField(max_length=100, unique=True)
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="readings")
    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    characteristic = models.CharField(max_length=20)
    payload = models.BinaryField(max_length=4096)
    payload_sha256 = models.CharField(max_length=64)
    values = models.JSONField(help_text=_("Decoded values in the record's units, by vital sign"))
    device_status = models.JSONField(default=list, blank=True)
    measured_at = models.DateTimeField()
    received_at = models.DateTimeField()
    encounter = models.ForeignKey("care.Encounter", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING, db_index=True)
    decided_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    observations = models.JSONField(default=list, blank=True, help_text=_("Ids of the observations it became"))

    objects = ReadingQuerySet.as_manager()

    class Meta:
        ordering = ["measured_at"]
        indexes = [models.Index(fields=["site", "state", "encounter"], name="devices_reading_pending"),
                   models.Index(fields=["patient", "measured_at"], name="devices_reading_patient")]

    def __str__(self):
        return f"{self.characteristic} {self.values} @ {self.measured_at:%Y-%m-%d %H:%M}"

    def signs(self):
        """(sign, value) pairs of its values, in the vital-sign table's order."""
        from caravane.care.vitals import BY_KEY, SIGNS

        return [(sign, self.values[sign.key]) for sign in SIGNS if sign.key in self.values and sign.key in BY_KEY]


class PlanQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        return scope.site_q("site")


class MonitoringPlan(UUIDModel):
    """A patient's remote monitoring (télésurveillance; FHIR CarePlan): what is measured, how often, the limits,
    and the GP who is alerted."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Ended")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="monitoring_plans")
    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    responsible = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="monitored_plans")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True, related_name="plans",
                               help_text=_("The home or village device lent to the patient"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    starts_at = models.DateTimeField()
    created_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return f"{self.patient} ({self.get_status_display()})"


class MonitoringTarget(models.Model):
    """One measurement a plan expects (FHIR CarePlan.activity with its Goal): a sign, every so many hours, limits."""

    plan = models.ForeignKey(MonitoringPlan, on_delete=models.CASCADE, related_name="targets")
    sign = models.CharField(max_length=20, help_text=_("Vital sign key, as in care.vitals"))
    every_hours = models.PositiveSmallIntegerField()
    low = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    high = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["plan", "sign"], name="devices_one_target_per_sign")]

    def __str__(self):
        return f"{self.sign} /{self.every_hours} h [{self.low}, {self.high}]"

    @property
    def sign_label(self):
        from caravane.care.vitals import BY_KEY

        return BY_KEY[self.sign].label if self.sign in BY_KEY else self.sign


class AlertQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        return scope.site_q("plan__site")


class MonitoringAlert(UUIDModel):
    """A value beyond a plan's limit or a measurement not received in time (FHIR DetectedIssue), until the GP
    acknowledges it."""

    class Kind(models.TextChoices):
        HIGH = "high", _("Above the limit")
        LOW = "low", _("Below the limit")
        MISSED = "missed", _("Measurement missed")

    plan = models.ForeignKey(MonitoringPlan, on_delete=models.PROTECT, related_name="alerts")
    target = models.ForeignKey(MonitoringTarget, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    reading = models.ForeignKey(Reading, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    value = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text=_("Missed: when the measurement was due"))
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            # The periodic check may run twice (two workers, a retry): one alert per missed due time.
            models.UniqueConstraint(fields=["target", "due_at"], condition=models.Q(kind="missed"),
                                    name="devices_one_missed_alert_per_due_time"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.plan.patient}"
