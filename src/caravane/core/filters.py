"""Filter sets: one declaration serves the HTML list (request.GET) and the API (query params)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q


@dataclass(frozen=True)
class Filter:
    """One filter: a query parameter applied as ``lookup=value``; ``choices`` limits the values."""

    lookup: str
    label: str = ""
    choices: object = None  # a callable returning [(value, label)], or a static list

    def options(self) -> list[tuple[str, str]]:
        choices = self.choices() if callable(self.choices) else (self.choices or [])
        return [(str(value), str(label)) for value, label in choices]

    def condition(self, value: str) -> Q:
        return Q(**{self.lookup: value})


@dataclass(frozen=True)
class SearchFilter(Filter):
    """Free-text search: every word must match one of the fields (case-insensitive)."""

    fields: tuple[str, ...] = ()

    def condition(self, value: str) -> Q:
        words = value.split()
        return reduce(lambda acc, w: acc & reduce(or_, (Q(**{f"{f}__icontains": w}) for f in self.fields)),
                      words, Q())


class FilterSet:
    """Declare ``filters = {"param": Filter(...)}``; bad values become ``errors``, never silent."""

    filters: dict[str, Filter] = {}

    def __init__(self, data=None):
        data = data or {}
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        for name, spec in self.filters.items():
            raw = data.get(name)
            if raw in (None, ""):
                continue
            raw = str(raw).strip()
            if spec.choices is not None and raw not in {value for value, _ in spec.options()}:
                self.errors[name] = f"{raw!r} is not a valid choice for {name}."
                continue
            self.values[name] = raw

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def filter(self, queryset):
        """Apply the valid filters to ``queryset``."""
        for name, value in self.values.items():
            queryset = queryset.filter(self.condition(name, value))
        return queryset

    def condition(self, name: str, value: str) -> Q:
        """The condition one filter puts on the rows (a filter set whose values need resolving first overrides it)."""
        return self.filters[name].condition(value)

    def fields(self):
        """(name, filter, current value) triples, for rendering a filter form."""
        return [(name, spec, self.values.get(name, "")) for name, spec in self.filters.items()]
