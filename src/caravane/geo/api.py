"""Geography API: regions, provinces and communes (2024 census), with a commune's boundary on its detail."""

from typing import Any, Optional

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from caravane.audit import gate
from caravane.core.access import Perm
from caravane.core.api import (
    ERRORS, INPUT_ERRORS, PageNumber, apply_filters, filter_query, get_or_404,
)
from caravane.geo.filters import CommuneFilterSet, ProvinceFilterSet
from caravane.geo.models import Commune, Province, Region

router = Router(tags=["geography"])

PERMISSION = Perm.VIEW_GEOGRAPHY
ProvinceFilters = filter_query(ProvinceFilterSet, "ProvinceFilters")
CommuneFilters = filter_query(CommuneFilterSet, "CommuneFilters")


class RegionOut(Schema):
    code: str
    name_fr: str
    name_ar: str
    population_2024: int
    households_2024: Optional[int]


class ProvinceOut(RegionOut):
    kind: str
    region: str = Field(alias="region_id")


class CommuneOut(Schema):
    code: str
    name_fr: str
    name_ar: str
    kind: str = Field(description="urban or rural")
    province: str = Field(alias="province_id")
    region: str = Field(alias="region_id")
    population_2024: int
    population_2014: Optional[int]
    households_2024: Optional[int]
    centroid_lat: float
    centroid_lon: float


class CommuneDetailOut(CommuneOut):
    cercle_code: str
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon (WGS84, lon/lat).")
    geometry_source: str
    indicators_2014: dict[str, Any] = Field(description="2014 census indicators bearing on access to care.")


@gate.before_input(Perm.VIEW_GEOGRAPHY, Region, param="code")
@router.get("/regions", response={200: list[RegionOut], **ERRORS, **INPUT_ERRORS}, summary="List regions")
@paginate(PageNumber)
def list_regions(request):
    """The 12 regions with their 2024 population."""
    gate.require(request.user, PERMISSION, ("geo.region", ""))
    return Region.objects.all()


@gate.before_input(Perm.VIEW_GEOGRAPHY, Region, param="code")
@router.get("/regions/{code}", response={200: RegionOut, **ERRORS}, summary="Get a region")
def get_region(request, code: str):
    """One region by its two-digit code ("01" to "12")."""
    gate.require(request.user, PERMISSION, ("geo.region", code))
    return get_or_404(Region.objects.all(), pk=code)


@gate.before_input(Perm.VIEW_GEOGRAPHY, Province, param="code")
@router.get("/provinces", response={200: list[ProvinceOut], **ERRORS, **INPUT_ERRORS}, summary="List provinces")
@paginate(PageNumber)
def list_provinces(request, filters: ProvinceFilters = Query(...)):
    """Provinces and prefectures, filtered by region, kind or name."""
    gate.require(request.user, PERMISSION, ("geo.province", ""))
    return apply_filters(ProvinceFilterSet, filters, Province.objects.all())


@gate.before_input(Perm.VIEW_GEOGRAPHY, Province, param="code")
@router.get("/provinces/{code}", response={200: ProvinceOut, **ERRORS}, summary="Get a province")
def get_province(request, code: str):
    """One province by its dotted code ("01.511")."""
    gate.require(request.user, PERMISSION, ("geo.province", code))
    return get_or_404(Province.objects.all(), pk=code)


@gate.before_input(Perm.VIEW_GEOGRAPHY, Commune, param="code")
@router.get("/communes", response={200: list[CommuneOut], **ERRORS, **INPUT_ERRORS}, summary="List communes")
@paginate(PageNumber)
def list_communes(request, filters: CommuneFilters = Query(...)):
    """Communes with population, kind and centroid; boundaries are on each commune's detail."""
    gate.require(request.user, PERMISSION, ("geo.commune", ""))
    communes = Commune.objects.defer("geometry", "indicators_2014")
    return apply_filters(CommuneFilterSet, filters, communes)


@gate.before_input(Perm.VIEW_GEOGRAPHY, Commune, param="code")
@router.get("/communes/{code}", response={200: CommuneDetailOut, **ERRORS}, summary="Get a commune")
def get_commune(request, code: str):
    """One commune by its dotted code, with its GeoJSON boundary."""
    gate.require(request.user, PERMISSION, ("geo.commune", code))
    return get_or_404(Commune.objects.all(), pk=code)
