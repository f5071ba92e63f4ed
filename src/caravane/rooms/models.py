"""Who was in an act's call and when: one row per connection to the room (FHIR Encounter.participant.period)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from caravane.core.models import UUIDModel
from caravane.telemed.models import ActScopedQuerySet


class Attendance(UUIDModel):
    """One participant's presence in the call of an act, from joining to leaving; the peer id is what the
    other participants' browsers address them by (opaque, one per connection)."""

    act = models.ForeignKey("telemed.ServiceRequest", on_delete=models.PROTECT, related_name="attendances")
    staff = models.ForeignKey("network.StaffMember", on_delete=models.PROTECT, related_name="+")
    peer = models.CharField(max_length=32, unique=True)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    objects = ActScopedQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at"]
        indexes = [models.Index(fields=["act"], condition=Q(left_at__isnull=True), name="rooms_present")]

    def __str__(self):
        return f"{self.staff} in {self.act_id} ({self.peer})"

    @property
    def present(self) -> bool:
        return self.left_at is None
