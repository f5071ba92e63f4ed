"""Reading the audit trail."""

from caravane.audit.filters import AuditFilterSet
from caravane.audit.models import AuditEvent


def audit_events(filterset: AuditFilterSet):
    """Audit rows matching the filter set, newest first."""
    return filterset.filter(AuditEvent.objects.all()).order_by("-at", "-id")
