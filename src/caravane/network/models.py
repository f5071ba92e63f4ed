"""The telemedicine network: sites, specialties, equipment, staff and their assignments."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caravane.core.access import Perm, Role
from caravane.core.models import LocalizedNameMixin, RestrictedQuerySet, UUIDModel


class Specialty(LocalizedNameMixin, models.Model):
    """A medical specialty offered by hubs (union of the 2018 and 2023 programmes)."""

    code = models.SlugField(max_length=40, primary_key=True)
    name_fr = models.CharField(max_length=80)
    name_ar = models.CharField(max_length=80)
    name_en = models.CharField(max_length=80)

    class Meta:
        ordering = ["name_fr"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")


class DeviceKind(LocalizedNameMixin, models.Model):
    """A kind of connected device a site can be equipped with (ECG, dermatoscope...)."""

    code = models.SlugField(max_length=40, primary_key=True)
    name_fr = models.CharField(max_length=80)
    name_ar = models.CharField(max_length=80)
    name_en = models.CharField(max_length=80)

    class Meta:
        ordering = ["name_fr"]


class SiteQuerySet(RestrictedQuerySet):
    def scope_filter(self, scope, perm):
        # The site directory (names, places, referral chain) is needed by everyone to refer
        # patients; anything else done at a site (care, answering, changing it) is limited to the user's sites.
        if perm == Perm.VIEW_SITE:
            return None
        return scope.site_q("")


class Site(LocalizedNameMixin, UUIDModel):
    """A place of care in the network: a spoke, a mobile unit or a hub."""

    class Kind(models.TextChoices):
        RURAL_HEALTH_CENTRE = "rural_health_centre", _("Rural health centre")
        MOBILE_UNIT = "mobile_unit", _("Mobile medical unit")
        REGIONAL_CENTRE = "regional_centre", _("Regional telemedicine centre")
        NATIONAL_CENTRE = "national_centre", _("National expertise centre")
        CENTRAL_PLATFORM = "central_platform", _("Central telemedicine platform")
        # Holds the essential medicines' stock for the centres and units of its province (pharmacy app).
        PROVINCIAL_DEPOT = "provincial_depot", _("Provincial medicines depot")

    SPOKE_KINDS = (Kind.RURAL_HEALTH_CENTRE, Kind.MOBILE_UNIT)
    HUB_KINDS = (Kind.REGIONAL_CENTRE, Kind.NATIONAL_CENTRE, Kind.CENTRAL_PLATFORM)

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=160)
    name_ar = models.CharField(max_length=160, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices, db_index=True)
    commune = models.ForeignKey("geo.Commune", on_delete=models.PROTECT, related_name="sites")
    latitude = models.FloatField()
    longitude = models.FloatField()
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        help_text=_("Referral parent: spoke to regional centre to national centre"),
    )
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="sites")
    equipment = models.ManyToManyField(DeviceKind, blank=True, related_name="sites")
    active = models.BooleanField(default=True)

    objects = SiteQuerySet.as_manager()
    localized_name_fields = {"fr": "name", "ar": "name_ar"}

    class Meta:
        ordering = ["name"]

    @property
    def is_spoke(self) -> bool:
        return self.kind in self.SPOKE_KINDS

    def referral_chain(self) -> list["Site"]:
        """This site's referral parents, nearest first (guards against cycles)."""
        chain, seen, node = [], {self.pk}, self.parent
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain


class Deployment(UUIDModel):
    """Where a mobile unit is based for a period: its province and base commune."""

    unit = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="deployments",
                             limit_choices_to={"kind": Site.Kind.MOBILE_UNIT})
    province = models.ForeignKey("geo.Province", on_delete=models.PROTECT, related_name="deployments")
    base_commune = models.ForeignKey("geo.Commune", on_delete=models.PROTECT, related_name="deployments")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=240, blank=True)

    class Meta:
        ordering = ["-start_date"]

    def __str__(self):
        return f"{self.unit} @ {self.base_commune} from {self.start_date}"


def active_on(day: datetime.date | None = None, prefix: str = "") -> Q:
    """Condition for rows whose start/end dates cover ``day`` (today by default)."""
    day = day or timezone.localdate()
    return Q(**{f"{prefix}start_date__lte": day}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": day})
    )


class StaffMemberQuerySet(RestrictedQuerySet):
    _scope_needs_distinct = True

    def scope_filter(self, scope, perm):
        own = Q(user_id=scope.user_id) if scope.user_id else Q(pk__in=[])
        in_scope = scope.site_q("assignments__site") & active_on(prefix="assignments__")
        if perm == Perm.VIEW_STAFF:
            return own | in_scope
        return in_scope


class StaffMember(UUIDModel):
    """A person working in the network, with a role and, for physicians, a registration number."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="staff")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    first_name_ar = models.CharField(max_length=80, blank=True)
    last_name_ar = models.CharField(max_length=80, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, db_index=True)
    registration_number = models.CharField(
        max_length=32, blank=True, help_text=_("Order of Physicians registration number (physicians only)")
    )
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="specialists")
    phone = models.CharField(max_length=20, blank=True)
    coverage_region = models.ForeignKey("geo.Region", on_delete=models.PROTECT, null=True, blank=True,
                                        help_text=_("Coordinators: the region they oversee"))
    coverage_province = models.ForeignKey("geo.Province", on_delete=models.PROTECT, null=True, blank=True,
                                          help_text=_("Coordinators: the province they oversee"))

    objects = StaffMemberQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                name="physician_has_registration",
                condition=~Q(role__in=["gp", "specialist"]) | ~Q(registration_number=""),
            ),
            models.CheckConstraint(
                name="specialist_has_specialty",
                condition=~Q(role="specialist") | Q(specialty__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Assignment(UUIDModel):
    """A staff member's assignment to a site between two dates (open-ended when no end)."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="assignments")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="assignments")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                name="assignment_dates_ordered",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
            )
        ]

    def __str__(self):
        return f"{self.staff} @ {self.site}"
