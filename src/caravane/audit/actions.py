"""Writing audit rows. Every state change and every protected read goes through here."""

from __future__ import annotations

from django.db import models

from caravane.audit.context import current_request_context
from caravane.audit.models import AuditEvent


def object_label(obj) -> tuple[str, str]:
    """The (type, id) pair an audit row names an object by."""
    if obj is None:
        return "", ""
    if isinstance(obj, models.Model):
        return obj._meta.label_lower, str(obj.pk)
    if isinstance(obj, tuple):
        return str(obj[0]), str(obj[1])
    return str(obj), ""


def do_record_audit(
    *,
    actor,
    action: str,
    target=None,
    outcome: str = AuditEvent.Outcome.ALLOWED,
    site=None,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one audit row for ``actor`` doing ``action`` on ``target`` (a model, or a (type, id) pair)."""
    from caravane.accounts.scope import scope_for

    context = current_request_context()
    object_type, object_id = object_label(target)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    role = scope_for(actor).role if authenticated else ""
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_username=(actor.get_username() if authenticated else (detail or {}).get("username", ""))[:150],
        role=role or "",
        site_id=getattr(site, "pk", None),
        site_name=str(site)[:160] if site is not None else "",
        object_type=object_type,
        object_id=object_id,
        action=action,
        outcome=outcome,
        client_address=context.client_address,
        path=context.path,
        detail=detail or {},
    )
