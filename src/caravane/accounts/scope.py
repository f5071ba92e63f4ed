"""A user's access scope: the sites, provinces or regions whose data they may see.

This is the one place that turns a user into a scope; querysets call ``restrict``
(see ``caravane.core.models.RestrictedQuerySet``) which asks this module.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db.models import Q

from caravane.network.models import Role


@dataclass(frozen=True)
class Scope:
    """What a user may reach: nothing, everything, or a set of sites and territories."""

    authenticated: bool
    national: bool = False
    user_id: uuid.UUID | None = None
    role: str | None = None
    site_ids: frozenset = field(default_factory=frozenset)
    province_codes: frozenset = field(default_factory=frozenset)
    region_codes: frozenset = field(default_factory=frozenset)
    # The site the user works at now (latest-started current assignment): audit rows default to it.
    primary_site_id: uuid.UUID | None = None
    primary_site_name: str = ""

    def site_q(self, path: str) -> Q:
        """Condition on a site reached through ``path`` ("" for a Site queryset itself)."""
        if self.national:
            return Q()
        prefix = f"{path}__" if path else ""
        condition = Q(**{f"{prefix}pk__in": list(self.site_ids)}) if self.site_ids else Q(pk__in=[])
        if self.province_codes:
            condition |= Q(**{f"{prefix}commune__province_id__in": list(self.province_codes)})
        if self.region_codes:
            condition |= Q(**{f"{prefix}commune__region_id__in": list(self.region_codes)})
        return condition

    def covers_site(self, site) -> bool:
        """Whether a site (with its commune loaded) lies in this scope."""
        if self.national:
            return True
        return (
            site.pk in self.site_ids
            or site.commune.province_id in self.province_codes
            or site.commune.region_id in self.region_codes
        )


ANONYMOUS = Scope(authenticated=False)


def compute_scope(user) -> Scope:
    """Build a user's scope from their staff record and current assignments."""
    from caravane.network.models import Assignment, active_on

    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    staff = getattr(user, "staff", None)
    if staff is None:
        return Scope(authenticated=True, national=user.is_superuser, user_id=user.pk,
                     role="administrator" if user.is_superuser else None)
    assignments = list(
        Assignment.objects.filter(active_on(), staff=staff)
        .order_by("-start_date", "-created_at")
        .values_list("site_id", "site__name")
    )
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
        site_ids=frozenset(site_id for site_id, _ in assignments),
        province_codes=frozenset(filter(None, [staff.coverage_province_id])) if coordinator else frozenset(),
        region_codes=frozenset(filter(None, [staff.coverage_region_id])) if coordinator else frozenset(),
        primary_site_id=assignments[0][0] if assignments else None,
        primary_site_name=assignments[0][1] if assignments else "",
    )


def scope_for(user) -> Scope:
    """The user's scope, computed once per request (cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_caravane_scope", None)
    if cached is None:
        cached = compute_scope(user)
        user._caravane_scope = cached
    return cached
