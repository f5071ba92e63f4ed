"""Querysets compiled once and run many times with new values: on a hot read, turning a queryset into SQL costs
the ORM more than the database takes to answer it (a patient read by token: three queries, most of the time in
compilation).

``prepared_rows(key, build, values)`` runs the queryset ``build(**markers)`` with ``values`` in place of the
markers. The first call for a key in a thread compiles it with marker values and remembers which SQL parameters
they became; later calls put the new values in those places and run the same SQL, and the ORM builds the rows as
it always does (``select_related`` objects and annotations included). The key must name everything else the
queryset depends on (the user's scope, the day): a queryset is compiled once per key, so what is not in the key
is fixed at compilation. A queryset whose SQL holds a timestamp (a "now" that would go stale) is not kept.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, models, router
from django.db.models import prefetch_related_objects
from django.db.models.query import ModelIterable

# Compiled querysets kept per thread: a few per role and site in use, so a bound only against unbounded keys.
KEPT_PER_THREAD = 512


class _Marker:
    """Stands for a value while the queryset is compiled: a value of the field's type no one else uses."""

    @staticmethod
    def of(field: models.Field):
        if isinstance(field, models.UUIDField):
            return uuid.uuid4()
        if isinstance(field, models.IntegerField):
            return -int.from_bytes(uuid.uuid4().bytes[:6], "big")
        return f"\x1fmarker-{uuid.uuid4().hex}"


class _Compiled:
    """One queryset's SQL with the places of its marked values, bound to one thread's connection."""

    def __init__(self, queryset: models.QuerySet, markers: dict, fields: dict, using: str):
        self.queryset, self.using, self.fields = queryset, using, fields
        self.connection = connections[using]
        self.compiler = queryset.query.get_compiler(using=using)
        try:
            sql, params = self.compiler.as_sql()
        except (EmptyResultSet, FullResultSet):
            raise _NotPreparable from None
        if any(isinstance(value, datetime.datetime) for value in params):
            raise _NotPreparable
        self.sql, self.params = sql, list(params)
        self.places = {}
        for name, marker in markers.items():
            prepped = fields[name].get_db_prep_value(marker, self.connection)
            self.places[name] = [index for index, value in enumerate(params) if value == prepped]
            if not self.places[name]:
                raise _NotPreparable
        # The compiler answers with the SQL kept here and this call's parameters.
        self.compiler.as_sql = lambda *args, **kwargs: (self.sql, self._now)
        self._now = tuple(self.params)

    def rows(self, values: dict) -> list:
        params = list(self.params)
        for name, value in values.items():
            field = self.fields[name]
            prepped = field.get_db_prep_value(field.to_python(value), self.connection)
            for index in self.places[name]:
                params[index] = prepped
        self._now = tuple(params)
        rows = list(ModelIterable(_Ready(self)))
        if rows and self.queryset._prefetch_related_lookups:
            prefetch_related_objects(rows, *self.queryset._prefetch_related_lookups)
        return rows


class _Ready:
    """What ModelIterable reads of a queryset, for a compiled one."""

    def __init__(self, compiled: _Compiled):
        self.db = compiled.using
        self.model = compiled.queryset.model
        self.query = self
        self._compiler = compiled.compiler
        self._known_related_objects = {}

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler


class _NotPreparable(Exception):
    """The queryset cannot be kept compiled (a timestamp in it, or a marker the SQL does not carry)."""


_kept = threading.local()


def prepared_rows(key: Hashable, build: Callable[..., models.QuerySet], fields: dict[str, models.Field],
                  values: dict) -> list:
    """The rows of ``build(**markers)`` with ``values`` for the markers; compiled once per key and thread.

    ``fields`` names the model field each marked value is compared with (it converts the value as the ORM would:
    a malformed value raises ValidationError, as a filter would).
    """
    # A foreign key's value is its target's (a UUID or an integer key).
    fields = {name: field.target_field if field.is_relation else field for name, field in fields.items()}
    kept = getattr(_kept, "compiled", None)
    if kept is None:
        kept = _kept.compiled = OrderedDict()
    entry = kept.get(key)
    if entry is not None and entry.connection is not connections[entry.using]:
        entry = None  # another connection object serves this thread now (tests swap them)
    if entry is None:
        markers = {name: _Marker.of(field) for name, field in fields.items()}
        queryset = build(**markers)
        using = queryset._db or router.db_for_read(queryset.model)
        try:
            entry = _Compiled(queryset, markers, fields, using)
        except _NotPreparable:
            return list(build(**values))
        kept[key] = entry
        if len(kept) > KEPT_PER_THREAD:
            kept.popitem(last=False)
    else:
        kept.move_to_end(key)
    return entry.rows(values)
