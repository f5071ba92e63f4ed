"""The gate: whether a user may do an action on an object or a list, decided in one call, audited in one place.

Every page, API operation, WebSocket and action asks here, with a typed permission (``caravane.core.access.Perm``):

- ``get(user, queryset, pk, perm)``: the object, 404 if it does not exist, 403 if it lies beyond the user's reach;
- ``restrict(user, queryset, perm, target=...)``: a list narrowed to the user's scope, 403 without the permission;
- ``require(user, perm, target)``: a permission on something that is not a row of a restricted queryset (a site
  chosen by the caller, a setting), with ``in_scope`` decided by the caller when it is scoped.

Validation comes after the gate, so a refused caller learns nothing about its input. A refusal raises
PermissionDenied and leaves a denied row. Within a request (HTTP or WebSocket, see ``audited``) each decision is
taken once, cached for the rest of the request, and the request leaves exactly one audit row: the action's row
when an action wrote one, otherwise the gate's (a read, or a failed attempt when the answer was an error).
Outside a request (commands, tests calling actions) a refusal is written at once and grants write nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit.actions import do_record_audit, object_label
from caravane.audit.context import Decision, current_request_context, request_context
from caravane.audit.models import AuditEvent
from caravane.core.access import UNAUDITED_GRANTS, Perm, scope_of
from caravane.core.prepared import prepared_rows

# Reads of a list have no object id: rows name what was listed ("patients.patient", "search").
ListTarget = tuple[str, str]


def _decide(user, perm: Perm, target, *, allowed: bool, reason: str = "", audit_action: str | None = None,
            site=None, detail: dict | None = None, quiet: bool = False) -> Decision:
    object_type, object_id = object_label(target)
    decision = Decision(user=user, perm=str(perm), audit_action=audit_action or str(perm), object_type=object_type,
                        object_id=object_id, allowed=allowed, site=site, reason=reason, detail=detail or {})
    context = current_request_context()
    if allowed and (quiet or perm in UNAUDITED_GRANTS):
        return decision
    if context.active:
        context.decisions.setdefault(_key(user, perm, object_type, object_id), decision)
    elif not allowed:
        _write(decision)
    return decision


def _key(user, perm, object_type: str, object_id: str) -> tuple:
    return (getattr(user, "pk", None), str(perm), object_type, object_id)


def _cached(user, perm: Perm, target) -> Decision | None:
    context = current_request_context()
    if not context.active:
        return None
    return context.decisions.get(_key(user, perm, *object_label(target)))


def _deny(decision: Decision, message: str | None) -> NoReturn:
    raise PermissionDenied(message or _("Your role does not allow this."))


def _write(decision: Decision, *, outcome: str | None = None) -> None:
    detail = dict(decision.detail)
    if decision.reason:
        detail["reason"] = decision.reason
    if decision.perm != decision.audit_action:
        detail.setdefault("permission", decision.perm)
    do_record_audit(
        actor=decision.user, action=decision.audit_action, target=(decision.object_type, decision.object_id),
        outcome=outcome or (AuditEvent.Outcome.ALLOWED if decision.allowed else AuditEvent.Outcome.DENIED),
        site=decision.site, detail=detail or None,
    )
    decision.written = True


def _reach_rows(user, perm: Perm, model) -> models.QuerySet | None:
    """The rows of ``model`` within ``user``'s reach for ``perm``, or None when reach is not limited.

    National users reach everything, and rows of reference data (regions, specialties) are not scoped:
    the permission alone decides.
    """
    rows = model._default_manager.all()
    if scope_of(user).national or not hasattr(rows, "restrict"):
        return None
    return rows.restrict(user, perm)


def _reach_limited(scope, model) -> bool:
    """Whether ``_reach_rows`` narrows ``model``'s rows for this scope (see there)."""
    return not scope.national and hasattr(model._default_manager.all(), "restrict")


def _read_row(queryset, shape, pk, user, perm: Perm, scope, limited: bool):
    """The row ``pk`` of ``queryset``, with whether it is within reach when ``limited`` (one query).

    A whole-model queryset (``shape``) is compiled once per shape, permission, scope and day, and then only
    run: compiling it cost more than running it.
    """
    def build(pk):
        rows = queryset.all()
        if limited:
            reach = _reach_rows(user, perm, queryset.model)
            rows = rows.annotate(_gate_in_reach=models.Exists(reach.filter(pk=models.OuterRef("pk"))))
        return rows.filter(pk=pk)

    if shape is None:
        return build(pk).get()
    key = ("gate.get", shape, str(perm), scope if limited else None, timezone.localdate())
    found = prepared_rows(key, build, {"pk": queryset.model._meta.pk}, {"pk": pk})
    if not found:
        raise queryset.model.DoesNotExist
    return found[0]


def _in_reach(user, perm: Perm, obj) -> bool:
    """Whether ``obj`` lies in the scope ``user`` holds ``perm`` over."""
    rows = _reach_rows(user, perm, type(obj))
    return rows is None or rows.filter(pk=obj.pk).exists()


def require(user, perm: Perm, target=None, *, in_scope: bool | None = None, message: str | None = None,
            audit_action: str | None = None, site=None, quiet: bool = False) -> None:
    """Refuse (403, denied row) unless ``user``'s role grants ``perm`` and ``target`` is within their reach.

    ``target`` is a row (its model's ``restrict`` decides the scope unless ``in_scope`` is given), a
    ``(type, id)`` pair, or None for a permission that concerns no object. A ``quiet`` grant leaves no row
    (a page's own polling of what its audited opening showed); a refusal always does.
    """
    cached = _cached(user, perm, target)
    if cached is not None:
        if not cached.allowed:
            _deny(cached, message)
        return
    scope = scope_of(user)
    if not scope.allows(perm):
        _deny(_decide(user, perm, target, allowed=False, reason=f"missing permission {perm}",
                      audit_action=audit_action, site=site), message)
    if in_scope is None and isinstance(target, models.Model):
        in_scope = _in_reach(user, perm, target)
    if in_scope is False:
        _deny(_decide(user, perm, target, allowed=False, reason="out of scope", audit_action=audit_action,
                      site=site), message)
    _decide(user, perm, target, allowed=True, audit_action=audit_action, site=site, quiet=quiet)


def may(user, perm: Perm, target=None) -> bool:
    """Whether ``user`` would be granted ``perm`` on ``target`` (a row, or None): asked to show only what a role
    may do (buttons, links), it records nothing. A decision already taken in the request answers it."""
    cached = _cached(user, perm, target)
    if cached is not None:
        return cached.allowed
    if not scope_of(user).allows(perm):
        return False
    if not isinstance(target, models.Model):
        return True
    answers = current_request_context().reach_answers
    key = _key(user, perm, *object_label(target))
    if key not in answers:
        answers[key] = _in_reach(user, perm, target)
    return answers[key]


def get(user, queryset, pk, perm: Perm, *, audit_action: str | None = None, site_of=None,
        message: str | None = None):
    """The object ``pk`` of ``queryset`` if ``user`` holds ``perm`` on it; 404 if there is none, 403 if out of reach."""
    model = queryset.model
    scope = scope_of(user)
    label = (model._meta.label_lower, str(pk))
    decided = _cached(user, perm, label)
    shape = _shape(queryset)
    obj = current_request_context().rows_read.get((label, shape)) if decided is not None and shape else None
    limited = False
    if obj is None:
        limited = decided is None and scope.allows(perm) and _reach_limited(scope, model)
        try:
            obj = _read_row(queryset, shape, pk, user, perm, scope, limited)
        except (model.DoesNotExist, ValueError, TypeError, ValidationError):
            raise Http404(_("No %(thing)s with this identifier.") % {"thing": model._meta.verbose_name})
        if shape and current_request_context().active:
            current_request_context().rows_read[(label, shape)] = obj
    site = site_of(obj) if site_of else None
    cached = decided or _cached(user, perm, obj)
    if cached is not None:
        if cached.site is None:
            cached.site = site  # decided before the input was read, when the row's site was not asked for
        if not cached.allowed:
            _deny(cached, message)
        return obj
    if not scope.allows(perm):
        _deny(_decide(user, perm, obj, allowed=False, reason=f"missing permission {perm}",
                      audit_action=audit_action, site=site), message)
    if limited and not obj._gate_in_reach:
        _deny(_decide(user, perm, obj, allowed=False, reason="out of scope", audit_action=audit_action, site=site),
              message or _("You do not have access to this %(thing)s.") % {"thing": model._meta.verbose_name})
    _decide(user, perm, obj, allowed=True, audit_action=audit_action, site=site)
    return obj


def _shape(queryset) -> tuple | None:
    """What a row read by ``queryset`` carries (its model, joined relations, prefetches), or None when the
    queryset filters or annotates: rows of the same shape read once in a request serve every later ask."""
    query = queryset.query
    if (queryset._result_cache is not None or query.where or query.annotations or query.extra
            or not query.default_cols or query.deferred_loading[0]
            or type(queryset) is not type(queryset.model._default_manager.all())):
        return None
    return (queryset.model, repr(query.select_related), tuple(map(str, queryset._prefetch_related_lookups)))


def restrict(user, queryset, perm: Perm, *, target: ListTarget | models.Model, audit_action: str | None = None,
             message: str | None = None, quiet: bool = False):
    """``queryset`` narrowed to what ``user`` may ``perm``; 403 (denied row) when the role lacks ``perm``."""
    require(user, perm, target, in_scope=True, message=message, audit_action=audit_action, quiet=quiet)
    return queryset.restrict(user, perm)


def note(user, perm: Perm, target, **detail) -> None:
    """Add ``detail`` (the filters used, the records returned...) to the audit row of a granted read."""
    decision = _cached(user, perm, target)
    if decision is not None:
        decision.detail.update(detail)


def returned(user, perm: Perm, target, ids) -> None:
    """Note which records a granted list read returned, on that read's audit row."""
    note(user, perm, target, returned=[str(pk) for pk in ids])


def refuse(user, perm: Perm | str, target, *, reason: str, message: str | None = None,
           audit_action: str | None = None) -> NoReturn:
    """Refuse (403, denied row) what the permission and the scope alone cannot decide (a state, a rule)."""
    cached = _cached(user, perm, target)
    if cached is not None and not cached.allowed:
        _deny(cached, message or reason)
    if cached is not None:
        context = current_request_context()
        context.decisions.pop(_key(user, perm, cached.object_type, cached.object_id), None)
    _deny(_decide(user, perm, target, allowed=False, reason=reason, audit_action=audit_action), message or reason)


def security_event(action: str, *, reason: str, username: str = "") -> None:
    """Write a refused attempt by nobody signed in (a missing login, a failed CSRF check) at once."""
    do_record_audit(actor=None, action=action, target=("security", ""), outcome=AuditEvent.Outcome.DENIED,
                    detail={"reason": reason, **({"username": username} if username else {})})


def finish(context, status: int) -> None:
    """At the end of a request: write the denials not yet written, and one row if the request wrote none."""
    decisions = list(context.decisions.values())
    for decision in decisions:
        if not decision.allowed and not decision.written:
            _write(decision)
    if context.rows_written == 0 and decisions:
        # The most telling grant: one that says what was shown, else one about an object, else the first.
        decision = max(decisions, key=lambda d: (bool(d.detail), bool(d.object_id)))
        _write(decision, outcome=AuditEvent.Outcome.ALLOWED if status < 400 else AuditEvent.Outcome.FAILED)


@contextmanager
def audited(*, client_address: str | None, path: str, method: str):
    """Serve one request in a context that the gate records into; yields a ``status`` setter's holder."""
    with request_context(client_address=client_address, path=path, method=method) as context:
        holder = {"status": 200}
        try:
            yield holder
        finally:
            finish(context, holder["status"])


def staff_of(user, perm: Perm, *, message: str):
    """The user's staff member record; refused (403, denied row) for a login that is nobody's in the network."""
    staff = getattr(user, "staff", None)
    if staff is None:
        refuse(user, perm, None, reason="not a staff member", message=message)
    return staff


@dataclass(frozen=True)
class InputRule:
    """An API operation's gate, asked before its input is read: ``perm`` on the object its path names (read from
    ``rows``), or on ``model``'s rows as a whole when the path names none."""

    perm: Perm
    model: type
    param: str = "pk"
    audit_action: str | None = None
    rows: models.QuerySet | None = None


def before_input(perm: Perm, model, *, param: str = "pk", audit_action: str | None = None):
    """Declare an API operation's gate, so that it is asked before the body and query are validated.

    A caller without the permission, or asking about an object beyond their reach, is refused before their
    input is read: a refusal tells nothing about whether the input was valid. The handler takes the row read
    here with ``input_row(request)``, or asks the gate again and gets the same answer at no cost (decisions are
    kept for the request). ``model`` may be the queryset the handler reads the object with: the row then carries
    its relations, with no second query.
    """
    rows = model if isinstance(model, models.QuerySet) else None

    def mark(view):
        view.gate_rule = InputRule(perm, rows.model if rows is not None else model, param, audit_action, rows)
        return view

    return mark


def input_row(request):
    """The row an API operation's declared rule read and let through before its input (no second query)."""
    return request.gate_row


def _is_key(model, value) -> bool:
    """Whether ``value`` can be ``model``'s primary key (a malformed one is left for validation to name)."""
    try:
        model._meta.pk.to_python(value)
    except ValidationError:
        return False
    return True


def check_before_input(request) -> None:
    """Ask the gate rule an API request carries, once its caller is known (PermissionDenied or Http404 to refuse)."""
    rule, path = getattr(request, "gate_rule", None), getattr(request, "gate_path", {})
    if rule is None:
        return
    rows = rule.rows.all() if rule.rows is not None else rule.model._default_manager.all()
    if rule.param in path and hasattr(rows, "restrict") and _is_key(rule.model, path[rule.param]):
        request.gate_row = get(request.user, rows, path[rule.param], rule.perm, audit_action=rule.audit_action)
    else:
        require(request.user, rule.perm, (rule.model._meta.label_lower, ""), in_scope=True,
                audit_action=rule.audit_action)
