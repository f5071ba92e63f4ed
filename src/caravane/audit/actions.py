"""Writing audit rows. Every state change and every protected read goes through here."""

from __future__ import annotations

from django.db import models, router

from caravane.audit.appender import APPENDER, appends_alone
from caravane.audit.context import current_request_context
from caravane.audit.models import AuditEvent
from caravane.core.access import scope_of


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
    """Append one audit row for ``actor`` doing ``action`` on ``target`` (a model, or a (type, id) pair).

    Without an explicit ``site``, the row carries the actor's current primary site, if any.
    """
    context = current_request_context()
    object_type, object_id = object_label(target)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    scope = scope_of(actor) if authenticated else None
    if site is not None:
        site_id, site_name = site.pk, str(site)
    elif scope is not None and scope.primary_site_id is not None:
        site_id, site_name = scope.primary_site_id, scope.primary_site_name
    else:
        site_id, site_name = None, ""
    context.rows_written += 1
    event = AuditEvent(
        actor=actor if authenticated else None,
        actor_username=(actor.get_username() if authenticated else (detail or {}).get("username", ""))[:150],
        role=(scope.role if scope is not None else "") or "",
        site_id=site_id,
        site_name=site_name[:160],
        object_type=object_type[:60],
        object_id=object_id[:64],
        action=action,
        outcome=outcome,
        client_address=context.client_address,
        path=context.path,
        detail=detail or {},
    )
    using = router.db_for_write(AuditEvent)
    if appends_alone(using):
        APPENDER.append(event)
    else:
        event.save(using=using)
    return event
