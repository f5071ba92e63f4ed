"""Filters for the audit trail, shared by the page and the CSV export."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caravane.audit.models import AuditEvent
from caravane.audit.subjects import about_patients, find_patients
from caravane.core.filters import Filter, FilterSet
from caravane.core.access import Role


@dataclass(frozen=True)
class DayFilter(Filter):
    """A local calendar day (YYYY-MM-DD): events from its start, or (``until``) up to its end.

    Compared as a time range rather than a date extracted from each row, so the index on the time is used.
    """

    until: bool = False

    def clean(self, raw: str) -> datetime.date:
        day = datetime.date.fromisoformat(raw)
        if day >= datetime.date.max:
            raise ValueError(raw)
        return day

    def condition(self, value: str) -> Q:
        day = self.clean(value) + datetime.timedelta(days=1 if self.until else 0)
        boundary = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        return Q(**{f"{self.lookup}__{'lt' if self.until else 'gte'}": boundary})


class UUIDFilter(Filter):
    """An identifier that must be a UUID."""

    def clean(self, raw: str) -> uuid.UUID:
        return uuid.UUID(raw)


class AuditFilterSet(FilterSet):
    filters = {
        # Resolved once per filter set (see ``patients``), into every object of the patients it names.
        "patient": Filter(lookup="object_id", label=_("Patient (name or record number)")),
        "actor": Filter(lookup="actor_username__icontains", label=_("Actor")),
        "role": Filter(lookup="role", label=_("Role"), choices=Role.choices),
        "site": Filter(lookup="site_name__icontains", label=_("Site")),
        "site_id": UUIDFilter(lookup="site_id", label=_("Site identifier")),
        "object_type": Filter(lookup="object_type", label=_("Object type")),
        "object_id": Filter(lookup="object_id", label=_("Object identifier")),
        "action": Filter(lookup="action", label=_("Action")),
        "outcome": Filter(lookup="outcome", label=_("Outcome"), choices=AuditEvent.Outcome.choices),
        "date_from": DayFilter(lookup="at", label=_("From (date)")),
        "date_to": DayFilter(lookup="at", label=_("To (date)"), until=True),
    }

    def __init__(self, data=None):
        super().__init__(data)
        # Values the database would reject are reported against their field, never sent to it.
        for name, raw in list(self.values.items()):
            clean = getattr(self.filters[name], "clean", None)
            if clean is None:
                continue
            try:
                clean(raw)
            except ValueError:
                del self.values[name]
                self.errors[name] = _("%(value)r is not a valid value for %(field)s.") % {
                    "value": raw, "field": self.filters[name].label}
        # The patients the "patient" filter names, and the ids of all their records.
        self.patients, self.patient_ids = ([], []) if "patient" not in self.values else find_patients(
            self.values["patient"])

    def condition(self, name: str, value: str) -> Q:
        if name == "patient":
            return about_patients(self.patient_ids)
        return super().condition(name, value)
