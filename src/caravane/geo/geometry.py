"""Commune boundaries: unioning 2014 rings, simplifying them, and a centroid inside the result."""

from __future__ import annotations

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

# About 200 m: keeps a province's map light while a small urban commune keeps its shape.
SIMPLIFY_TOLERANCE_DEG = 0.002
# Coordinates are stored on a 1e-5 degree grid (about 1 m).
GRID_DEG = 1e-5
# Holes left between adjacent rings by digitising slivers, not real enclaves (about 0.01 km²).
SLIVER_AREA_DEG2 = 1e-6
DECIMALS = 5


def polygons_in(geometry) -> list[Polygon]:
    """The polygons in any geometry, dropping the lines and points make_valid can leave."""
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    return [part for item in getattr(geometry, "geoms", []) for part in polygons_in(item)]


def _without_slivers(polygon: Polygon) -> Polygon:
    holes = [ring for ring in polygon.interiors if Polygon(ring).area >= SLIVER_AREA_DEG2]
    return Polygon(polygon.exterior, holes)


def boundary(polygons: list[Polygon]) -> Polygon | MultiPolygon:
    """The simplified union of a commune's polygons, valid and on the storage grid."""
    parts = [part for polygon in polygons for part in polygons_in(shapely.make_valid(polygon))]
    if not parts:
        raise ValueError("a commune needs at least one non-empty polygon")
    merged = shapely.union_all(parts) if len(parts) > 1 else parts[0]
    merged = shapely.MultiPolygon([_without_slivers(part) for part in polygons_in(merged)])
    simplified = shapely.simplify(merged, SIMPLIFY_TOLERANCE_DEG, preserve_topology=True)
    snapped = polygons_in(shapely.set_precision(simplified, GRID_DEG))
    if not snapped:
        raise ValueError("the boundary vanished when simplified")
    return snapped[0] if len(snapped) == 1 else MultiPolygon(snapped)


def _rounded(coordinates):
    if isinstance(coordinates[0], (int, float)):
        return [round(coordinates[0], DECIMALS), round(coordinates[1], DECIMALS)]
    return [_rounded(item) for item in coordinates]


def to_geojson(geometry: Polygon | MultiPolygon) -> dict:
    """The GeoJSON (lists, coordinates rounded to the grid) a Commune stores."""
    data = mapping(geometry)
    return {"type": data["type"], "coordinates": _rounded(data["coordinates"])}


def inner_point(geojson: dict) -> tuple[float, float]:
    """(lat, lon) of the centroid of a stored boundary, or a point surely inside it when the centroid is not."""
    geometry = shape(geojson)
    point = geometry.centroid
    if not geometry.contains(point):
        point = geometry.representative_point()
    return point.y, point.x
