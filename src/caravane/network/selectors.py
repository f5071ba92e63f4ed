"""Reads of the network: staffing of mobile units, deployments, site staff and referral chains.

The staffing status is computed for many units at once (one query), so lists of units
can flag the understaffed ones without a query per row.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from caravane.core.access import Role

from caravane.network.models import Assignment, Deployment, Site, active_on

# The programme's staffing of a mobile medical unit: the minimum on duty for it to run.
UNIT_STAFFING_REQUIREMENT: dict[str, int] = {
    Role.GP: 1,
    Role.NURSE: 2,
    Role.ADMINISTRATIVE_ASSISTANT: 1,
}

# Annotation names used by ``annotate_staffing`` for each required role.
STAFFING_ANNOTATIONS: dict[str, str] = {
    Role.GP: "staffing_gp",
    Role.NURSE: "staffing_nurse",
    Role.ADMINISTRATIVE_ASSISTANT: "staffing_assistant",
}


@dataclass(frozen=True)
class StaffingStatus:
    """How many people of each required role a unit has, and which roles lack people."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def missing(self) -> dict[str, int]:
        """Required roles not filled, with how many people are lacking."""
        return {role: need - self.counts.get(role, 0) for role, need in UNIT_STAFFING_REQUIREMENT.items()
                if self.counts.get(role, 0) < need}

    @property
    def is_complete(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict:
        """A JSON-ready form for the API and the pages."""
        return {
            "counts": {role: self.counts.get(role, 0) for role in UNIT_STAFFING_REQUIREMENT},
            "required": dict(UNIT_STAFFING_REQUIREMENT),
            "missing": self.missing,
            "is_complete": self.is_complete,
        }


def staffing_by_site(site_ids, day: datetime.date | None = None) -> dict:
    """Staffing status of each site in ``site_ids`` (ids or a Site queryset), in one query."""
    ids = list(site_ids.values_list("pk", flat=True)) if hasattr(site_ids, "values_list") else list(site_ids)
    counts: dict = defaultdict(dict)
    rows = (Assignment.objects.filter(active_on(day), site_id__in=ids, staff__role__in=list(UNIT_STAFFING_REQUIREMENT))
            .values("site_id", "staff__role").annotate(n=Count("staff_id", distinct=True)).order_by())
    for row in rows:
        counts[row["site_id"]][row["staff__role"]] = row["n"]
    return {site_id: StaffingStatus(counts=dict(counts.get(site_id, {}))) for site_id in ids}


def staffing_status(unit: Site, day: datetime.date | None = None) -> StaffingStatus:
    """Staffing status of one mobile unit."""
    return staffing_by_site([unit.pk], day)[unit.pk]


def annotate_staffing(queryset, day: datetime.date | None = None):
    """Annotate sites with the number of people on duty per required role and ``staffing_complete``.

    ``staffing_complete`` is True or False for mobile units and None for other sites, so a
    list can flag an understaffed unit with ``site.staffing_complete is False``.
    """
    day = day or timezone.localdate()
    annotations = {}
    for role, name in STAFFING_ANNOTATIONS.items():
        per_site = (Assignment.objects.filter(active_on(day), site=OuterRef("pk"), staff__role=role)
                    .order_by().values("site").annotate(n=Count("staff", distinct=True)).values("n"))
        annotations[name] = Coalesce(Subquery(per_site, output_field=IntegerField()), Value(0))
    complete = Q(**{f"{STAFFING_ANNOTATIONS[role]}__gte": need for role, need in UNIT_STAFFING_REQUIREMENT.items()})
    return queryset.annotate(**annotations).annotate(staffing_complete=Case(
        When(Q(kind=Site.Kind.MOBILE_UNIT) & complete, then=Value(True)),
        When(kind=Site.Kind.MOBILE_UNIT, then=Value(False)),
        default=Value(None),
    ))


def understaffed_units(queryset=None, day: datetime.date | None = None):
    """Mobile units (of ``queryset``, all by default) lacking someone in a required role."""
    queryset = Site.objects.all() if queryset is None else queryset
    return annotate_staffing(queryset.filter(kind=Site.Kind.MOBILE_UNIT, active=True), day).filter(
        staffing_complete=False)


def current_deployments(unit_ids, day: datetime.date | None = None) -> dict:
    """The deployment in force on ``day`` for each unit, keyed by unit id (units without one are absent)."""
    rows = (Deployment.objects.filter(active_on(day), unit_id__in=unit_ids)
            .select_related("province", "base_commune").order_by("unit_id", "-start_date"))
    found: dict = {}
    for deployment in rows:
        found.setdefault(deployment.unit_id, deployment)
    return found


def current_deployment(unit: Site, day: datetime.date | None = None) -> Deployment | None:
    """The deployment of a mobile unit in force on ``day`` (today by default)."""
    return current_deployments([unit.pk], day).get(unit.pk)


def site_staff(site: Site, day: datetime.date | None = None) -> list[Assignment]:
    """Active assignments at a site with their staff (and specialty), ordered by role then name."""
    role_order = Case(*[When(staff__role=role, then=Value(position)) for position, role in enumerate(Role.values)],
                      output_field=IntegerField())
    return list(Assignment.objects.filter(active_on(day), site=site)
                .select_related("staff", "staff__specialty")
                .order_by(role_order, "staff__last_name", "staff__first_name"))


def referral_chain(site: Site) -> list[Site]:
    """The sites a site refers to, nearest first, read in one query."""
    loaded = Site.objects.select_related("parent", "parent__parent", "parent__parent__parent").get(pk=site.pk)
    return loaded.referral_chain()
