"""Fetching protected objects: permission, scope and audit in one call."""

from __future__ import annotations

from typing import NoReturn

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

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


def refuse(user, *, action: str, target, reason: str, message: str | None = None) -> NoReturn:
    """Audit a refused attempt and raise PermissionDenied (403) with ``message`` for the user (``reason`` if none)."""
    record_denied(user, action=action, target=target, reason=reason)
    raise PermissionDenied(reason if message is None else message)


def require_permission(user, permission: str, *, action: str, target) -> None:
    """Raise PermissionDenied (403), with a denied audit row, unless ``user``'s role grants ``permission``."""
    if not user.has_perm(permission):
        refuse(user, action=action, target=target, reason=f"missing permission {permission}",
               message=_("Your role does not allow this."))


def authorize(user, target, *, permission: str, action: str, message: str, scope: str = "change",
              in_scope: bool | None = None) -> None:
    """Refuse (403 with a denied audit row) unless the role grants ``permission`` and ``target`` is in scope.

    The scope is ``.restrict(user, scope)`` on the target's model; ``in_scope`` decides it instead for a
    target that is not a row (or whose scope is decided otherwise).
    """
    if not user.has_perm(permission):
        refuse(user, action=action, target=target, reason=f"missing {permission}", message=message)
    if in_scope is None:
        in_scope = type(target).objects.restrict(user, scope).filter(pk=target.pk).exists()
    if not in_scope:
        refuse(user, action=action, target=target, reason="out of scope", message=message)


def staff_of(user, *, message: str):
    """The user's staff member record; PermissionDenied (403) with ``message`` for a user who is none."""
    staff = getattr(user, "staff", None)
    if staff is None:
        raise PermissionDenied(message)
    return staff
