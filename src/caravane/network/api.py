"""Network API: sites, specialties, device kinds and staff, each read within the caller's scope."""

import datetime
import uuid
from typing import Optional

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from caravane.audit import gate
from caravane.core.access import Perm
from caravane.core.api import (
    ERRORS, INPUT_ERRORS, PageNumber, apply_filters, filter_query, get_or_404,
)
from caravane.network.filters import SiteFilterSet, StaffFilterSet
from caravane.network.models import Assignment, DeviceKind, Site, Specialty, StaffMember, active_on
from caravane.network.selectors import current_deployment, staffing_status

router = Router()

HEAVY_COMMUNE_FIELDS = ("commune__geometry", "commune__indicators_2014")
SiteFilters = filter_query(SiteFilterSet, "SiteFilters")
StaffFilters = filter_query(StaffFilterSet, "StaffFilters")


class CatalogueOut(Schema):
    code: str
    name_fr: str
    name_ar: str
    name_en: str


class SiteRef(Schema):
    id: uuid.UUID
    code: str
    name: str
    kind: str


class SiteOut(SiteRef):
    name_ar: str
    commune: str = Field(alias="commune_id")
    commune_name: str = Field(alias="commune.name_fr")
    province: str = Field(alias="commune.province_id")
    region: str = Field(alias="commune.region_id")
    latitude: float
    longitude: float
    parent: Optional[uuid.UUID] = Field(alias="parent_id", description="Referral parent.")
    active: bool


class DeploymentOut(Schema):
    province: str = Field(alias="province_id")
    province_name: str = Field(alias="province.name_fr")
    base_commune: str = Field(alias="base_commune_id")
    base_commune_name: str = Field(alias="base_commune.name_fr")
    start_date: datetime.date
    end_date: Optional[datetime.date]
    note: str


class StaffingOut(Schema):
    counts: dict[str, int] = Field(description="People on duty today, per required role.")
    required: dict[str, int]
    missing: dict[str, int] = Field(description="Required roles short of people, with how many are lacking.")
    is_complete: bool


class SiteDetailOut(SiteOut):
    referral_chain: list[SiteRef] = Field(description="Referral parents, nearest first.")
    specialties: list[CatalogueOut]
    equipment: list[CatalogueOut]
    deployment: Optional[DeploymentOut] = Field(None, description="Mobile units: the deployment in force today.")
    staffing: Optional[StaffingOut] = Field(None, description="Mobile units: today's staffing against the minimum.")

    @staticmethod
    def resolve_referral_chain(obj) -> list:
        return obj.referral_chain()

    @staticmethod
    def resolve_deployment(obj):
        return current_deployment(obj) if obj.kind == Site.Kind.MOBILE_UNIT else None

    @staticmethod
    def resolve_staffing(obj):
        return staffing_status(obj).as_dict() if obj.kind == Site.Kind.MOBILE_UNIT else None


class StaffOut(Schema):
    id: uuid.UUID
    first_name: str
    last_name: str
    first_name_ar: str
    last_name_ar: str
    role: str
    specialty: Optional[str] = Field(alias="specialty_id")
    sites: list[SiteRef] = Field(description="Sites of the current assignments.")

    @staticmethod
    def resolve_sites(obj) -> list:
        return [assignment.site for assignment in obj.current_assignments]


class AssignmentOut(Schema):
    site: SiteRef
    start_date: datetime.date
    end_date: Optional[datetime.date]


class StaffDetailOut(StaffOut):
    registration_number: str
    phone: str
    coverage_region: Optional[str] = Field(alias="coverage_region_id")
    coverage_province: Optional[str] = Field(alias="coverage_province_id")
    assignments: list[AssignmentOut] = Field(description="Current assignments.")

    @staticmethod
    def resolve_assignments(obj) -> list:
        return obj.current_assignments


def _staff_queryset():
    # Only what StaffOut shows: a 200-row page otherwise builds 400 full model instances.
    current = (Assignment.objects.filter(active_on()).select_related("site").order_by("-start_date")
               .only("staff_id", "start_date", "end_date", "site__id", "site__code", "site__name", "site__kind"))
    return StaffMember.objects.prefetch_related(Prefetch("assignments", queryset=current, to_attr="current_assignments"))


@gate.before_input(Perm.VIEW_SITE, Site, param="site_id")
@router.get("/sites", response={200: list[SiteOut], **ERRORS, **INPUT_ERRORS}, tags=["sites"], summary="List sites")
@paginate(PageNumber)
def list_sites(request, filters: SiteFilters = Query(...)):
    """The site directory, filtered by kind, region, province, specialty or name."""
    # A commune's boundary can weigh tens of kilobytes: never load it for a list.
    sites = gate.restrict(request.user, Site.objects.all(), Perm.VIEW_SITE, target=("network.site", "")).select_related("commune").defer(*HEAVY_COMMUNE_FIELDS)
    return apply_filters(SiteFilterSet, filters, sites)


@gate.before_input(Perm.VIEW_SITE, Site, param="site_id")
@router.get("/sites/{site_id}", response={200: SiteDetailOut, **ERRORS, **INPUT_ERRORS}, tags=["sites"],
            summary="Get a site")
def get_site(request, site_id: uuid.UUID):
    """A site with its referral chain, specialties and equipment; a mobile unit also with deployment and staffing."""
    sites = (gate.restrict(request.user, Site.objects.all(), Perm.VIEW_SITE, target=("network.site", str(site_id)))
             .select_related("commune", "parent", "parent__parent", "parent__parent__parent")
             .defer(*HEAVY_COMMUNE_FIELDS)
             .prefetch_related("specialties", "equipment"))
    return get_or_404(sites, pk=site_id)


@gate.before_input(Perm.VIEW_STAFF, Site, param="site_id", audit_action="view_staff")
@router.get("/sites/{site_id}/staff", response={200: list[StaffOut], **ERRORS, **INPUT_ERRORS}, tags=["staff"],
            summary="List a site's staff")
@paginate(PageNumber)
def list_site_staff(request, site_id: uuid.UUID, filters: StaffFilters = Query(...)):
    """The people assigned to a site today; refused (403, audited) outside the caller's scope."""
    site = gate.get(request.user, Site.objects.all(), site_id, Perm.VIEW_STAFF, audit_action="view_staff",
                    site_of=lambda found: found)
    staff = (_staff_queryset().restrict(request.user, Perm.VIEW_STAFF)
             .filter(active_on(prefix="assignments__"), assignments__site=site).distinct())
    return apply_filters(StaffFilterSet, filters, staff)


@gate.before_input(Perm.VIEW_STAFF, StaffMember, param="staff_id", audit_action="list")
@router.get("/staff", response={200: list[StaffOut], **ERRORS, **INPUT_ERRORS}, tags=["staff"], summary="List staff")
@paginate(PageNumber)
def list_staff(request, filters: StaffFilters = Query(...)):
    """The staff the caller may see (their sites, or their province or region for a coordinator); audited."""
    target = ("network.staffmember", "")
    staff = gate.restrict(request.user, _staff_queryset(), Perm.VIEW_STAFF, target=target, audit_action="list")
    gate.note(request.user, Perm.VIEW_STAFF, target, filters=filters.model_dump(exclude_none=True))
    return apply_filters(StaffFilterSet, filters, staff)


@gate.before_input(Perm.VIEW_STAFF, StaffMember, param="staff_id", audit_action="view")
@router.get("/staff/{staff_id}", response={200: StaffDetailOut, **ERRORS, **INPUT_ERRORS}, tags=["staff"],
            summary="Get a staff member")
def get_staff(request, staff_id: uuid.UUID):
    """One staff member; refused (403) outside the caller's scope. Every attempt is audited."""
    return gate.get(request.user, _staff_queryset(), staff_id, Perm.VIEW_STAFF, audit_action="view")


@gate.before_input(Perm.VIEW_SITE, Specialty)
@router.get("/specialties", response={200: list[CatalogueOut], **ERRORS, **INPUT_ERRORS}, tags=["catalogues"],
            summary="List specialties")
@paginate(PageNumber)
def list_specialties(request):
    """Medical specialties offered by the hubs."""
    gate.require(request.user, Perm.VIEW_SITE, ("network.specialty", ""))
    return Specialty.objects.all()


@gate.before_input(Perm.VIEW_SITE, DeviceKind)
@router.get("/device-kinds", response={200: list[CatalogueOut], **ERRORS, **INPUT_ERRORS}, tags=["catalogues"],
            summary="List device kinds")
@paginate(PageNumber)
def list_device_kinds(request):
    """Kinds of connected devices a site can be equipped with."""
    gate.require(request.user, Perm.VIEW_SITE, ("network.devicekind", ""))
    return DeviceKind.objects.all()
