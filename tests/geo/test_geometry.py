"""Commune boundaries and centroids, on small hand-made shapes."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, Polygon, shape

from caravane.geo import geometry, sources
from caravane.geo.actions import GeometrySource, _polygons_for


def square(x0, y0, size):
    return Polygon([(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)])


def test_a_u_shaped_commune_gets_a_point_inside_not_its_centroid():
    u_shape = Polygon([(0, 0), (0.3, 0), (0.3, 0.3), (0.2, 0.3), (0.2, 0.1), (0.1, 0.1), (0.1, 0.3), (0, 0.3)])
    assert not u_shape.contains(u_shape.centroid)
    stored = geometry.to_geojson(geometry.boundary([u_shape]))
    lat, lon = geometry.inner_point(stored)
    assert shape(stored).contains(Point(lon, lat))


def test_a_convex_commune_keeps_its_centroid():
    stored = geometry.to_geojson(geometry.boundary([square(-7.0, 31.0, 0.2)]))
    assert geometry.inner_point(stored) == pytest.approx((31.1, -6.9))


def test_arrondissements_with_a_digitising_gap_merge_without_a_sliver_hole():
    left = Polygon([(0, 0), (0.1, 0), (0.1, 0.05), (0.09999, 0.0501), (0.1, 0.0502), (0.1, 0.1), (0, 0.1)])
    right = square(0.1, 0, 0.1)
    merged = geometry.boundary([left, right])
    assert merged.geom_type == "Polygon" and not list(merged.interiors)
    assert merged.area == pytest.approx(0.02, rel=1e-3)


def test_an_urban_centre_inside_its_rural_commune_is_absorbed():
    rural, centre = square(0, 0, 0.5), square(0.2, 0.2, 0.05)
    assert geometry.boundary([rural, centre]).equals(geometry.boundary([rural]))


def test_stored_coordinates_are_lists_on_a_metre_grid():
    stored = geometry.to_geojson(geometry.boundary([square(-7.123456789, 31.987654321, 0.2)]))
    assert stored["type"] == "Polygon"
    ring = stored["coordinates"][0]
    assert isinstance(ring, list) and isinstance(ring[0], list)
    assert all(round(value, geometry.DECIMALS) == value for point in ring for value in point)


def test_a_commune_without_a_2014_polygon_is_an_error_not_a_gap():
    units = sources.Units(regions=[], provinces=[], communes=[], arrondissements={}, crosswalk={"01.051.11.01": "01.051.05.01"})
    polygons = {(1, 51, 5, 1): [square(0, 0, 1)]}
    found, how = _polygons_for({"code": "01.051.11.01", "name_fr": "Ait Kamra"}, units, polygons)
    assert how == GeometrySource.CROSSWALK and len(found) == 1
    with pytest.raises(LookupError, match="01.051.11.02"):
        _polygons_for({"code": "01.051.11.02", "name_fr": "Nowhere"}, units, polygons)
