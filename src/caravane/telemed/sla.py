"""Service levels: when a request's first answer is due, when it expires, and whether it breached its target.

Defaults: urgent answered within 30 minutes, priority within 4 hours, routine within 48 hours; a
``ServiceLevel`` row for a priority overrides them (set in the admin or with ``do_set_service_level``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from caravane.telemed.models import AWAITING_ANSWER, Priority, ServiceLevel

# (answer within, expire after) in minutes.
DEFAULTS: dict[str, tuple[int, int]] = {
    Priority.URGENT: (30, 2 * 60),
    Priority.PRIORITY: (4 * 60, 24 * 60),
    Priority.ROUTINE: (48 * 60, 7 * 24 * 60),
}


@dataclass(frozen=True)
class Level:
    priority: str
    answer: datetime.timedelta
    expire: datetime.timedelta


def levels() -> dict[str, Level]:
    """The service level of every priority: the defaults, overridden by the ServiceLevel table."""
    minutes = dict(DEFAULTS)
    for row in ServiceLevel.objects.all():
        minutes[row.priority] = (row.answer_minutes, row.expire_minutes)
    return {p: Level(p, datetime.timedelta(minutes=a), datetime.timedelta(minutes=e)) for p, (a, e) in minutes.items()}


def answer_due(priority: str, since: datetime.datetime, table: dict[str, Level] | None = None) -> datetime.datetime:
    """When the first answer to a request of ``priority`` waiting since ``since`` is due."""
    return since + (table or levels())[priority].answer


@dataclass(frozen=True)
class Timer:
    """A request's service-level timer as the worklist shows it."""

    due_at: datetime.datetime
    answered_at: datetime.datetime | None
    now: datetime.datetime

    @property
    def running(self) -> bool:
        return self.answered_at is None

    @property
    def breached(self) -> bool:
        """Answered after the due time, or still unanswered past it."""
        return (self.answered_at or self.now) > self.due_at

    @property
    def remaining_seconds(self) -> int:
        """Seconds left before the due time (negative once overdue); 0 once answered."""
        return 0 if self.answered_at else int((self.due_at - self.now).total_seconds())


def timer(act, now: datetime.datetime) -> Timer:
    """The timer of an act at ``now``: it stops at the first answer of the hub currently holding the act."""
    answered = None if act.status in AWAITING_ANSWER else act.first_answered_at
    return Timer(due_at=act.due_at, answered_at=answered, now=now)
