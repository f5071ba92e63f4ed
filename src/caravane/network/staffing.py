"""Reads for the pages: staff of a site and staffing status of mobile units.

Kept apart from the views so they can be swapped for ``network.selectors`` once it provides them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from caravane.network.models import Assignment, Role, StaffMember, active_on

# A mobile unit goes out with at least one physician and one nurse.
UNIT_MINIMUM = {Role.GP: 1, Role.NURSE: 1}


@dataclass
class UnitStaffing:
    """How a mobile unit is staffed today against its minimum crew."""

    unit: object
    counts: Counter = field(default_factory=Counter)

    @property
    def missing(self) -> list[str]:
        return [role for role, needed in UNIT_MINIMUM.items() if self.counts[role] < needed]

    @property
    def missing_labels(self) -> list[str]:
        return [str(Role(role).label) for role in self.missing]

    @property
    def understaffed(self) -> bool:
        return bool(self.missing)

    @property
    def headcount(self) -> int:
        return sum(self.counts.values())


def unit_staffing(units) -> dict:
    """Staffing status of each mobile unit in ``units``, keyed by unit id."""
    units = list(units)
    counts = defaultdict(Counter)
    rows = Assignment.objects.filter(active_on(), site__in=[unit.pk for unit in units]).values_list(
        "site_id", "staff__role")
    for site_id, role in rows:
        counts[site_id][role] += 1
    return {unit.pk: UnitStaffing(unit=unit, counts=counts[unit.pk]) for unit in units}


def site_staff(site):
    """Staff currently assigned to ``site``, with their specialty."""
    return (StaffMember.objects.filter(active_on(prefix="assignments__"), assignments__site=site)
            .select_related("specialty").distinct().order_by("role", "last_name", "first_name"))
