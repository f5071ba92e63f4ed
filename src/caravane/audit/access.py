"""Fetching protected objects: permission, scope and audit in one call."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from caravane.audit.actions import do_record_audit
from caravane.audit.models import AuditEvent


def fetch_protected(user, queryset, *, pk, permission: str, action: str = "view", audit_action: str | None = None,
                    site_of=None):
    """Return the object ``pk`` of ``queryset`` if ``user`` may ``action`` it; audit the read or the denial.

    Raises PermissionDenied (403) when the object exists outside the user's scope or the
    role lacks ``permission``, and Http404 when it does not exist at all.
    """
    audit_action = audit_action or action
    model = queryset.model
    try:
        obj = queryset.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {model._meta.verbose_name} with this identifier.")
    site = site_of(obj) if site_of else None
    allowed = user.has_perm(permission) and queryset.restrict(user, action).filter(pk=obj.pk).exists()
    do_record_audit(
        actor=user,
        action=audit_action,
        target=obj,
        outcome=AuditEvent.Outcome.ALLOWED if allowed else AuditEvent.Outcome.DENIED,
        site=site,
    )
    if not allowed:
        raise PermissionDenied(f"You do not have access to this {model._meta.verbose_name}.")
    return obj


def record_denied(user, *, action: str, target, reason: str = "") -> None:
    """Audit a refused attempt that did not go through ``fetch_protected``."""
    do_record_audit(actor=user, action=action, target=target, outcome=AuditEvent.Outcome.DENIED,
                    detail={"reason": reason} if reason else None)


def require_permission(user, permission: str, *, action: str, target) -> None:
    """Raise PermissionDenied (403), with a denied audit row, unless ``user``'s role grants ``permission``."""
    if not user.has_perm(permission):
        record_denied(user, action=action, target=target, reason=f"missing permission {permission}")
        raise PermissionDenied("Your role does not allow this.")
