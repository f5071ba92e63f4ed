"""Where a mobile unit's planned stop days come from, so that pharmacy imports no app above it.

The planning app registers, when it starts, a function giving a unit's planned stop days from a date over a
number of days; the load list before a tour counts them. Without it (or without a plan) the tour page falls back
to the number of stop days the user gives.
"""

from __future__ import annotations

import datetime
from typing import Callable, Iterable

PlannedDays = Callable[[object, datetime.date, int], Iterable[datetime.date]]

_providers: dict[str, PlannedDays] = {}


def register_planned_days(name: str, days: PlannedDays) -> None:
    """Add (or replace) a source of planned stop days: ``days(unit, start, horizon_days)`` -> dates."""
    _providers[name] = days


def planned_days(unit, start: datetime.date, horizon_days: int) -> list[datetime.date]:
    """The unit's planned stop days in ``[start, start + horizon_days)``, from every source, sorted; empty if none."""
    end = start + datetime.timedelta(days=horizon_days)
    return sorted({day for days in _providers.values() for day in days(unit, start, horizon_days)
                   if start <= day < end})
