"""Turning a signed-in user into their scope: their role's permissions and the sites, provinces or regions
they work in. The accounts app registers ``compute_scope`` with ``caravane.core.access`` when it starts, so
the layers below read a user's scope without importing this one.
"""

from __future__ import annotations

import time

from django.utils import timezone

from caravane.core.access import ANONYMOUS, Role, Scope, permissions_of
from caravane.core.prepared import prepared_rows


def _current_assignments(staff):
    from caravane.network.models import Assignment, active_on

    return (Assignment.objects.filter(active_on(), staff=staff).select_related("site")
            .only("site_id", "site__name", "start_date", "created_at").order_by("-start_date", "-created_at"))


# A staff member's current sites, asked on every request, are kept this long in each process. An assignment saved
# in this process is seen at once; one saved by another process within this many seconds (the role and the
# token, read on every request, are never kept).
ASSIGNMENTS_KEPT_SECONDS = 5
_kept_assignments: dict = {}


def _assignments_of(staff_pk) -> list[tuple]:
    """(site id, site name) of the staff member's current assignments, latest first."""
    from caravane.network.models import Assignment

    day, now = timezone.localdate(), time.monotonic()
    kept = _kept_assignments.get(staff_pk)
    if kept is not None and kept[0] == day and kept[1] > now:
        return kept[2]
    # Compiled once a day (the day is in the query), then only run.
    assignments = [(assignment.site_id, assignment.site.name) for assignment in prepared_rows(
        ("scope", day), _current_assignments, {"staff": Assignment._meta.get_field("staff")}, {"staff": staff_pk})]
    if len(_kept_assignments) > 10_000:
        _kept_assignments.clear()
    _kept_assignments[staff_pk] = (day, now + ASSIGNMENTS_KEPT_SECONDS, assignments)
    return assignments


def forget_assignments(**_signal) -> None:
    """Drop the kept assignments (an assignment was saved or deleted in this process)."""
    _kept_assignments.clear()


def compute_scope(user) -> Scope:
    """Build a user's scope from their staff record and current assignments."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    staff = getattr(user, "staff", None)
    if staff is None:
        role = Role.ADMINISTRATOR if user.is_superuser else None
        return Scope(authenticated=True, national=user.is_superuser, user_id=user.pk, role=role,
                     permissions=permissions_of(role))
    assignments = _assignments_of(staff.pk)
    coordinator = staff.role == Role.COORDINATOR
    national = staff.role == Role.ADMINISTRATOR or (
        coordinator and not staff.coverage_region_id and not staff.coverage_province_id
    )
    # Territorial coverage is a coordinator's attribute; on any other role it grants nothing.
    return Scope(
        authenticated=True,
        national=national,
        user_id=user.pk,
        role=staff.role,
        permissions=permissions_of(staff.role),
        site_ids=frozenset(site_id for site_id, _ in assignments),
        province_codes=frozenset(filter(None, [staff.coverage_province_id])) if coordinator else frozenset(),
        region_codes=frozenset(filter(None, [staff.coverage_region_id])) if coordinator else frozenset(),
        primary_site_id=assignments[0][0] if assignments else None,
        primary_site_name=assignments[0][1] if assignments else "",
    )
