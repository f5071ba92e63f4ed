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

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["site", "kind", "serial_number"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "model_name", "serial_number"], name="devices_one_serial"),
        ]

    def __str__(self):
        return f"{self.manufacturer} {self.model_name} #{self.serial_number}"

    def calibration_overdue(self, today: datetime.date | None = None) -> bool:
        """Whether the calibration due date has passed (a device with none recorded is not flagged)."""
        return self.calibration_due is not None and self.calibration_due < (today or timezone.localdate())
