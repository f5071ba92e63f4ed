"""Telemedicine's background jobs, run by `caravane worker` (caravane.tasks)."""

from caravane.tasks.registry import background_task
from caravane.telemed.actions import do_expire_overdue


@background_task()
def expire_overdue() -> int:
    """Expire the requests left unanswered past their service level; returns how many."""
    return len(do_expire_overdue())
