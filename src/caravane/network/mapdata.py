"""Data for the offline sites map: province outlines as the base layer, sites and referral links.

Field sites have no internet access, so the base layer is drawn from our own geography
instead of map tiles. Outlines are dissolved from commune polygons, simplified and rounded
so the whole country stays a few hundred kilobytes, and cached until the geography changes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Sum
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.ops import unary_union

# About 1 km at Morocco's latitudes: enough for a country-wide view on a tablet.
SIMPLIFY_TOLERANCE = 0.01
COORDINATE_DIGITS = 3
SITE_DIGITS = 4
# Commune polygons do not meet exactly: closing gaps this wide (about 300 m) keeps their union from
# being riddled with sliver holes, which would otherwise make up most of the bytes.
GAP = 0.003
# Holes and islands smaller than this (about 1 km²) do not show at the scales the map is read at.
MIN_AREA = 0.0001
OUTLINES_CACHE_SECONDS = 7 * 24 * 3600


def _round(coordinates, digits):
    """Round nested GeoJSON coordinates, dropping points that collapse onto their predecessor."""
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [round(coordinates[0], digits), round(coordinates[1], digits)]
    rounded = [_round(part, digits) for part in coordinates]
    if rounded and isinstance(rounded[0][0], (int, float)):
        deduped = [point for i, point in enumerate(rounded) if i == 0 or point != rounded[i - 1]]
        return deduped if len(deduped) >= 4 else rounded
    return rounded


def _outline(shapes):
    """The simplified outer boundary of a set of adjoining polygons, without slivers."""
    merged = unary_union(shapes).buffer(GAP).buffer(-GAP)
    parts = merged.geoms if hasattr(merged, "geoms") else [merged]
    kept = [Polygon(part.exterior, [ring for ring in part.interiors if Polygon(ring).area >= MIN_AREA])
            for part in parts if isinstance(part, Polygon) and part.area >= MIN_AREA]
    outline = kept[0] if len(kept) == 1 else MultiPolygon(kept)
    return outline.simplify(SIMPLIFY_TOLERANCE, preserve_topology=True)


def _geography_version() -> str:
    """Changes whenever communes are added, removed or moved, in this database or another sharing the cache."""
    from caravane.geo.models import Commune

    stats = Commune.objects.aggregate(n=Count("code"), last=Max("code"), lat=Sum("centroid_lat"),
                                      lon=Sum("centroid_lon"))
    database = connection.settings_dict.get("NAME")
    return hashlib.sha1(f"{database}:{stats}".encode()).hexdigest()[:16]


def province_outlines() -> dict:
    """A GeoJSON FeatureCollection of province outlines (code, region, names), cached."""
    key = f"caravane:map:provinces:{_geography_version()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    from caravane.geo.models import Commune, Province

    shapes = defaultdict(list)
    for code, geometry in Commune.objects.values_list("province_id", "geometry").iterator(chunk_size=200):
        try:
            shapes[code].append(shape(geometry).buffer(0))
        except (ValueError, TypeError, AttributeError, KeyError):
            continue  # a malformed polygon must not take the whole map down
    features = []
    for province in Province.objects.filter(code__in=shapes.keys()).order_by("code"):
        outline = _outline(shapes[province.code])
        if outline.is_empty:
            continue
        geometry = mapping(outline)
        features.append({
            "type": "Feature",
            "properties": {"code": province.code, "region": province.region_id,
                           "name_fr": province.name_fr, "name_ar": province.name_ar},
            "geometry": {"type": geometry["type"], "coordinates": _round(geometry["coordinates"], COORDINATE_DIGITS)},
        })
    collection = {"type": "FeatureCollection", "features": features}
    cache.set(key, collection, timeout=OUTLINES_CACHE_SECONDS)
    return collection


def site_points(sites, understaffed_ids, name_of) -> dict:
    """Sites as compact points plus referral links (child to parent) for the map."""
    sites = list(sites)
    positions = {site.pk: (round(site.latitude, SITE_DIGITS), round(site.longitude, SITE_DIGITS)) for site in sites}
    points = [
        {"id": str(site.pk), "name": name_of(site), "kind": site.kind, "lat": positions[site.pk][0],
         "lon": positions[site.pk][1], "understaffed": site.pk in understaffed_ids}
        for site in sites
    ]
    links = [[positions[site.pk], positions[site.parent_id]] for site in sites if site.parent_id in positions]
    return {"sites": points, "links": links}
