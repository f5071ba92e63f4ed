"""Typed search parameters, and the search interaction: filters, ``_sort``, ``_total``, paging with ``_count``,
``_include``/``_revinclude``.

A parameter the resource does not declare, a modifier no parameter takes, or a sort key the resource does not
offer, is refused (400) or, with ``Prefer: handling=lenient``, reported in an OperationOutcome entry: never
silently ignored.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from caravane.fhir.server.errors import FhirError, Issue, operation_outcome
from caravane.fhir.server.resource import REGISTRY

DEFAULT_COUNT, MAX_COUNT = 20, 100
REVINCLUDE_MAX = 1000
# Search controls the server takes on every type (the parameters are per resource, see each module).
CONTROLS = ("_count", "_after", "_sort", "_total", "_include", "_revinclude", "_format")
TOTALS = ("none", "estimate", "accurate")


@dataclass(frozen=True)
class Param:
    """A search parameter: its FHIR type, and how one of its values narrows the rows."""

    type: str
    documentation: str
    to_q: Callable[[str], Q]
    # The field ``_sort`` orders by for this parameter (None: not a sort key).
    sort: str | None = None

    def narrow(self, rows: QuerySet, value: str, name: str) -> QuerySet:
        # A comma separates values any of which may match; repeating the parameter requires each.
        condition = Q(pk__in=[])
        for one in value.split(","):
            if not one:
                raise FhirError(400, "invalid", _("Search parameter %(name)s: an empty value.") % {"name": name}, expression=[name])
            condition |= self.to_q(one)
        return rows.filter(condition)


def key(field: str, documentation: str = "The logical id") -> Param:
    """A token that is a row's key (``_id``): a malformed id matches nothing."""

    def to_q(value):
        try:
            return Q(**{field: uuid.UUID(value)})
        except ValueError:
            return Q(pk__in=[])

    return Param("token", documentation, to_q)


def reference(field: str, target: str, documentation: str) -> Param:
    """A reference to ``target`` (``Target/id`` or a bare id)."""

    def to_q(value):
        kind, _slash, pk = value.rpartition("/")
        if kind and kind.rpartition("/")[2] != target:
            raise FhirError(400, "invalid", _("This parameter refers to %(target)s, not to %(kind)s.") % {"target": target, "kind": kind})
        try:
            return Q(**{field: uuid.UUID(pk)})
        except ValueError:
            return Q(pk__in=[])

    return Param("reference", documentation, to_q)


def patient(field: str, documentation: str) -> dict[str, Param]:
    """The ``patient`` and ``subject`` parameters of a patient's records: both name the Patient ``field`` holds."""
    param = reference(field, "Patient", documentation)
    return {"patient": param, "subject": param}


def token(field: str, documentation: str, *, system: str | None = None, codes: dict | None = None) -> Param:
    """A coded value (``system|code`` or ``code``); ``codes`` maps the FHIR code to stored values."""

    def to_q(value):
        named, bar, code = value.rpartition("|")
        if bar and named and system is not None and named != system:
            return Q(pk__in=[])
        stored = codes.get(code, []) if codes is not None else [code]
        return Q(**{f"{field}__in": list(stored)})

    return Param("token", documentation, to_q)


def string(fields: tuple[str, ...], documentation: str) -> Param:
    """Text that begins with the value, in any of ``fields``, case ignored (FHIR's default string match)."""

    def to_q(value):
        condition = Q(pk__in=[])
        for field in fields:
            condition |= Q(**{f"{field}__istartswith": value})
        return condition

    return Param("string", documentation, to_q, sort=fields[0])


def custom(kind: str, documentation: str, to_q: Callable[[str], Q]) -> Param:
    return Param(kind, documentation, to_q)


PREFIXES = {"eq": "", "ge": "gte", "le": "lte", "gt": "gt", "lt": "lt"}


def _instant_range(value: str) -> tuple[datetime.datetime, datetime.datetime]:
    """The instants ``value`` covers: a year, a month, a day or an instant."""
    zone = timezone.get_current_timezone()
    try:
        if len(value) in (4, 7, 10):
            parts = [int(part) for part in value.split("-")] + [1, 1]
            start = datetime.date(parts[0], parts[1], parts[2])
            if len(value) == 4:
                end = datetime.date(start.year + 1, 1, 1)
            elif len(value) == 7:
                end = (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
            else:
                end = start + datetime.timedelta(days=1)
            return (datetime.datetime.combine(start, datetime.time(), zone),
                    datetime.datetime.combine(end, datetime.time(), zone))
        instant = parse_datetime(value)
    except (ValueError, IndexError):
        instant = None
    if instant is None:
        raise FhirError(400, "invalid", _("“%(value)s” is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or an instant).") % {"value": value})
    if timezone.is_naive(instant):
        instant = timezone.make_aware(instant, zone)
    return instant, instant + datetime.timedelta(microseconds=1)


def date(field: str, documentation: str, *, is_date: bool = False) -> Param:
    """A date or instant, with the prefixes eq, ge, le, gt and lt; ``is_date`` for a DateField."""

    def to_q(value):
        prefix = value[:2] if value[:2] in PREFIXES else "eq"
        start, end = _instant_range(value[2:] if value[:2] in PREFIXES else value)
        if is_date:
            start, end = start.date(), end.date()
        if prefix == "eq":
            return Q(**{f"{field}__gte": start, f"{field}__lt": end})
        bound = {"ge": start, "gt": end, "le": end, "lt": start}[prefix]
        lookup = {"ge": "gte", "gt": "gte", "le": "lt", "lt": "lt"}[prefix]
        return Q(**{f"{field}__{lookup}": bound})

    return Param("date", documentation, to_q, sort=field)


def _count(values: list[str]) -> int:
    try:
        count = int(values[-1])
    except ValueError:
        raise FhirError(400, "invalid", _("_count must be a whole number."), expression=["_count"]) from None
    if count < 0:
        raise FhirError(400, "invalid", _("_count cannot be negative."), expression=["_count"])
    return min(count, MAX_COUNT)


def _after(values: list[str]) -> uuid.UUID:
    # Written by this server into its next links (the last id of the page: rows are in id order, and ids
    # are time-ordered UUIDv7, so a page stays put while new rows arrive); an edited one is refused.
    try:
        return uuid.UUID(values[-1])
    except ValueError:
        raise FhirError(400, "invalid", _("_after must be an id (follow the next link)."), expression=["_after"]) from None


def _unknown(ctx, message: str, name: str) -> None:
    if not ctx.lenient:
        raise FhirError(400, "not-supported", message, expression=[name])
    ctx.issues.append(Issue("not-supported", message + " " + _("It was ignored (handling=lenient)."), severity="warning",
                            expression=[name]))


def _follow(ctx, resource, value: str, *, reverse: bool) -> tuple[type, object] | None:
    """The (resource, include) an ``_include``/``_revinclude`` value names, or None (reported) when not served."""
    source = value.split(":")[0]
    declaring = REGISTRY.get(source)
    include = declaring.includes.get(value) if declaring else None
    if include is None or (include.target != resource.type if reverse else source != resource.type):
        _unknown(ctx, _("%(control)s=%(value)s is not supported here.") % {"control": "_revinclude" if reverse else "_include", "value": value},
                 "_revinclude" if reverse else "_include")
        return None
    return declaring, include


def sorts(resource) -> dict:
    """The keys ``_sort`` takes on ``resource``: ``_lastUpdated``, and each date or string parameter's field."""
    return {"_lastUpdated": resource.last_updated(),
            **{name: F(param.sort) for name, param in resource.params.items() if param.sort}}


def _sort(ctx, resource, values: list[str]) -> list[tuple[object, bool]]:
    """The (expression, descending) pairs a ``_sort`` asks for, in order; keys not offered are refused or reported."""
    offered, keys = sorts(resource), []
    for value in values:
        for name in value.split(","):
            descending = name.startswith("-")
            expression = offered.get(name.removeprefix("-"))
            if expression is None:
                _unknown(ctx, _("%(type)s cannot be sorted by “%(name)s”; it sorts by %(keys)s.") % {
                    "type": resource.type, "name": name, "keys": ", ".join(offered)}, "_sort")
            else:
                keys.append((expression, descending))
    return keys


def _sorted(rows: QuerySet, keys: list[tuple[object, bool]], after) -> QuerySet:
    """``rows`` in the order of ``keys`` then id (empty values last), from the row after ``after`` when given.

    A page starts after its anchor row's sort values (keyset paging), so the order holds while rows arrive.
    """
    names = [f"_sort_{index}" for index in range(len(keys))]
    rows = rows.annotate(**{name: expression for name, (expression, _desc) in zip(names, keys)})
    order = [F(name).desc(nulls_last=True) if desc else F(name).asc(nulls_last=True)
             for name, (_expression, desc) in zip(names, keys)]
    if after is not None:
        anchor = rows.filter(pk=after).values(*names).first()
        if anchor is None:
            raise FhirError(400, "invalid", _("_after must be an id (follow the next link)."), expression=["_after"])
        later, same = Q(pk__gt=after), Q()
        for name, (_expression, desc) in reversed(list(zip(names, keys))):
            value = anchor[name]
            same = Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})
            beyond = Q(pk__in=[]) if value is None else (
                Q(**{f"{name}__{'lt' if desc else 'gt'}": value}) | Q(**{f"{name}__isnull": True}))
            later = beyond | (same & later)
        rows = rows.filter(later)
    return rows.order_by(*order, "pk")


def search(resource, ctx, query) -> dict:
    """The searchset Bundle for ``query`` (a QueryDict) on ``resource``: the gate first, then the input."""
    resource = resource.searched(query)
    rows = resource.searchable(ctx.rows(resource))
    count, after, includes, revincludes, keys, total = DEFAULT_COUNT, None, [], [], [], "none"
    for name, values in query.lists():
        base, _colon, modifier = name.partition(":")
        if name == "_count":
            count = _count(values)
        elif name == "_after":
            after = _after(values)
        elif name == "_format":
            continue
        elif name == "_sort":
            keys = _sort(ctx, resource, values)
        elif name == "_total" and values[-1] in TOTALS:
            total = values[-1]
        elif name == "_total":
            _unknown(ctx, _("_total is none, estimate or accurate."), name)
        elif name in ("_include", "_revinclude"):
            reverse = name == "_revinclude"
            for value in values:
                followed = _follow(ctx, resource, value, reverse=reverse)
                if followed is not None:
                    (revincludes if reverse else includes).append(followed)
        elif base in resource.params and not modifier:
            for value in values:
                rows = resource.params[base].narrow(rows, value, name)
        elif base in resource.params:
            _unknown(ctx, _("The modifier :%(modifier)s of %(name)s is not supported.") % {"modifier": modifier, "name": base}, name)
        else:
            _unknown(ctx, _("%(type)s has no search parameter “%(name)s”.") % {"type": resource.type, "name": name}, name)
    # An estimate is the exact count: counting the matches is as cheap as guessing them here.
    matches = rows.count() if total != "none" else None
    if keys:
        rows = _sorted(rows, keys, after)
    else:
        rows = rows.order_by("pk")
        if after is not None:
            rows = rows.filter(pk__gt=after)
    page = list(rows[:count + 1]) if count else []
    has_next = len(page) > count
    page = page[:count]
    ctx.returned(resource, [obj.pk for obj in page])
    entries = [_entry(ctx, body, "match") for body in resource.render_many(page, ctx)]
    entries += _included(ctx, resource, page, includes, revincludes)
    if ctx.issues:
        entries.append({"resource": operation_outcome(ctx.issues), "search": {"mode": "outcome"}})
    links = [{"relation": "self", "url": _page_url(ctx, resource, query, after, count)}]
    if has_next:
        links.append({"relation": "next", "url": _page_url(ctx, resource, query, page[-1].pk, count)})
    bundle = {"resourceType": "Bundle", "type": "searchset"}
    if matches is not None:
        bundle["total"] = matches
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(ctx, body: dict, mode: str) -> dict:
    return {"fullUrl": ctx.url(body["resourceType"], body["id"]), "resource": body, "search": {"mode": mode}}


def _included(ctx, resource, page, includes, revincludes) -> list[dict]:
    """The resources the page refers to (``_include``) or that refer to it (``_revinclude``), each within reach."""
    entries = []
    for declaring, include in includes:
        target = REGISTRY[include.target]
        ids = {getattr(obj, include.field) for obj in page} - {None}
        if ids:
            found = list(target.searchable(ctx.rows(target)).filter(pk__in=ids).order_by("pk"))
            entries += [_entry(ctx, body, "include") for body in target.render_many(found, ctx)]
    for declaring, include in revincludes:
        ids = [obj.pk for obj in page]
        if ids:
            found = declaring.searchable(ctx.rows(declaring)).filter(**{f"{include.field}__in": ids}).order_by("pk")
            found = list(found[:REVINCLUDE_MAX + 1])
            if len(found) > REVINCLUDE_MAX:
                found = found[:REVINCLUDE_MAX]
                ctx.issues.append(Issue("too-costly", _("Only the first %(count)s %(type)s resources are included: search them by patient to page through "
                                          "all.") % {"count": REVINCLUDE_MAX, "type": declaring.type}, severity="warning",
                                        expression=["_revinclude"]))
            ctx.returned(declaring, [obj.pk for obj in found])
            entries += [_entry(ctx, body, "include") for body in declaring.render_many(found, ctx)]
    return entries


def _page_url(ctx, resource, query, after, count: int) -> str:
    pairs = [(name, value) for name, values in query.lists() if name not in ("_after", "_count") for value in values]
    pairs += [("_count", count), ("_after", after)] if after else [("_count", count)]
    return f"{ctx.url(resource.type)}?{urlencode(pairs)}"
