"""Reads of the reference geography for the rest of the app (no access scope: it is public data)."""

from __future__ import annotations

from django.db.models import QuerySet
from shapely.geometry import Point, shape

from caravane.geo.models import Commune, Province, Region

# How far (degrees) around a point to look for the commune that holds it: the largest Saharan
# communes reach about 3 degrees from their centroid.
_SEARCH_RADIUS_DEG = 3.5


def regions() -> QuerySet[Region]:
    """The 12 regions, by code."""
    return Region.objects.all()


def get_region(code: str) -> Region:
    """A region by its two-digit code (raises Region.DoesNotExist)."""
    return Region.objects.get(code=code)


def provinces(*, region_code: str | None = None, with_arrondissement_prefectures: bool = False) -> QuerySet[Province]:
    """Provinces and prefectures, of one region if given.

    Casablanca's prefectures of arrondissements are left out unless asked for: they hold no commune
    and their population is already in the Casablanca prefecture.
    """
    queryset = Province.objects.select_related("region")
    if region_code is not None:
        queryset = queryset.filter(region_id=region_code)
    if not with_arrondissement_prefectures:
        queryset = queryset.exclude(kind=Province.Kind.PREFECTURE_ARRONDISSEMENTS)
    return queryset


def get_province(code: str) -> Province:
    """A province or prefecture by its dotted code "RR.PPP" (raises Province.DoesNotExist)."""
    return Province.objects.select_related("region").get(code=code)


def communes(*, province_code: str | None = None, region_code: str | None = None, kind: str | None = None,
             with_geometry: bool = False) -> QuerySet[Commune]:
    """Communes, filtered by province, region or kind; the boundary is loaded only when asked for."""
    queryset = Commune.objects.select_related("province", "region")
    if province_code is not None:
        queryset = queryset.filter(province_id=province_code)
    if region_code is not None:
        queryset = queryset.filter(region_id=region_code)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    return queryset if with_geometry else queryset.defer("geometry")


def get_commune(code: str) -> Commune:
    """A commune by its dotted HCP code (raises Commune.DoesNotExist)."""
    return Commune.objects.select_related("province", "region").get(code=code)


def commune_named(name: str, *, province_code: str) -> Commune:
    """The commune of a province with this French name, ignoring case (raises Commune.DoesNotExist)."""
    return communes(province_code=province_code).get(name_fr__iexact=name)


def commune_at(lat: float, lon: float) -> Commune | None:
    """The commune whose stored boundary holds the point, or None (at sea, abroad)."""
    point = Point(lon, lat)
    candidates = communes(with_geometry=True).filter(
        centroid_lat__range=(lat - _SEARCH_RADIUS_DEG, lat + _SEARCH_RADIUS_DEG),
        centroid_lon__range=(lon - _SEARCH_RADIUS_DEG, lon + _SEARCH_RADIUS_DEG),
    )
    nearest_first = sorted(candidates, key=lambda c: (c.centroid_lat - lat) ** 2 + (c.centroid_lon - lon) ** 2)
    return next((commune for commune in nearest_first if shape(commune.geometry).covers(point)), None)


def commune_feature(commune: Commune) -> dict:
    """One commune as a GeoJSON Feature with its census figures and centroid."""
    return {
        "type": "Feature",
        "id": commune.code,
        "geometry": commune.geometry,
        "properties": {
            "code": commune.code,
            "name_fr": commune.name_fr,
            "name_ar": commune.name_ar,
            "kind": commune.kind,
            "province_code": commune.province_id,
            "population_2024": commune.population_2024,
            "households_2024": commune.households_2024,
            "population_2014": commune.population_2014,
            "centroid": [commune.centroid_lon, commune.centroid_lat],
        },
    }


def province_feature_collection(province_code: str) -> dict:
    """The communes of a province as a GeoJSON FeatureCollection, for maps."""
    return {
        "type": "FeatureCollection",
        "features": [commune_feature(c) for c in communes(province_code=province_code, with_geometry=True)],
    }
