"""Filters for the audit trail, shared by the page and the CSV export."""

from __future__ import annotations

import datetime
import uuid

from django.utils.translation import gettext_lazy as _

from caravane.audit.models import AuditEvent
from caravane.core.filters import Filter, FilterSet
from caravane.network.models import Role


class DateFilter(Filter):
    """A calendar day (YYYY-MM-DD) compared with the event's local date."""

    def clean(self, raw: str) -> datetime.date:
        return datetime.date.fromisoformat(raw)


class UUIDFilter(Filter):
    """An identifier that must be a UUID."""

    def clean(self, raw: str) -> uuid.UUID:
        return uuid.UUID(raw)


class AuditFilterSet(FilterSet):
    filters = {
        "actor": Filter(lookup="actor_username__icontains", label=_("Actor")),
        "role": Filter(lookup="role", label=_("Role"), choices=Role.choices),
        "site": Filter(lookup="site_name__icontains", label=_("Site")),
        "site_id": UUIDFilter(lookup="site_id", label=_("Site identifier")),
        "object_type": Filter(lookup="object_type", label=_("Object type")),
        "object_id": Filter(lookup="object_id", label=_("Object identifier")),
        "action": Filter(lookup="action", label=_("Action")),
        "outcome": Filter(lookup="outcome", label=_("Outcome"), choices=AuditEvent.Outcome.choices),
        "date_from": DateFilter(lookup="at__date__gte", label=_("From (date)")),
        "date_to": DateFilter(lookup="at__date__lte", label=_("To (date)")),
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
