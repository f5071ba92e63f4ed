"""HCP's 2014 polygons, corrected for their northward shift, checked against independent references."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape

from caravane.geo import sources
from caravane.geo.models import Commune

from .reference_data import HCP_PROVINCES_2014, HEALTHSITES, OSM_PROVINCES, healthsite_points, hcp_provinces, iou
from .reference_data import match_provinces, osm_provinces

needs_osm = pytest.mark.skipif(not (OSM_PROVINCES.is_file() and HCP_PROVINCES_2014.is_dir()),
                               reason="the shared OSM and HCP data (../shared) is absent")
needs_healthsites = pytest.mark.skipif(not HEALTHSITES.is_file(), reason="the shared healthsites data is absent")


def test_the_correction_moves_latitudes_only_and_more_in_the_north():
    points = np.array([[-5.8, 35.9], [-15.9, 23.9]])  # Tanger, Dakhla as HCP serves them
    corrected = sources.correct_hcp_2014(points)
    assert (corrected[:, 0] == points[:, 0]).all()
    shifts = points[:, 1] - corrected[:, 1]
    assert 0.17 < shifts[0] < 0.19 and 0.14 < shifts[1] < 0.17 and shifts[0] > shifts[1]


@needs_osm
def test_corrected_provinces_sit_on_openstreetmaps():
    pairs = match_provinces(hcp_provinces(), osm_provinces())
    assert len(pairs) >= 50
    offsets, before, after = [], [], []
    for _code, hcp, osm in pairs:
        corrected = shapely.transform(hcp, sources.correct_hcp_2014)
        offsets.append((corrected.centroid.x - osm.centroid.x, corrected.centroid.y - osm.centroid.y))
        before.append(iou(hcp, osm))
        after.append(iou(corrected, osm))
    assert abs(statistics.median(dx for dx, _ in offsets)) < 0.02
    assert abs(statistics.median(dy for _, dy in offsets)) < 0.02
    assert statistics.mean(after) > statistics.mean(before) + 0.3
    assert statistics.mean(after) > 0.85


def _share_inside(points, polygons) -> float:
    tree = shapely.STRtree(polygons)
    hits = tree.query(shapely.points(points), predicate="intersects")
    return len(set(hits[0])) / len(points)


@needs_healthsites
def test_health_facilities_fall_inside_communes(morocco):
    polygons = [shape(geometry) for geometry in Commune.objects.values_list("geometry", flat=True)]
    points = np.array(healthsite_points())
    # The same points in HCP's shifted frame: where they fall in the uncorrected polygons.
    shifted = points.copy()
    shifted[:, 1] = (points[:, 1] - sources.HCP_2014_LAT_OFFSET) / sources.HCP_2014_LAT_SCALE
    before, after = _share_inside(shifted, polygons), _share_inside(points, polygons)
    print(f"healthsites inside a commune: {before:.1%} uncorrected, {after:.1%} corrected ({len(points)} points)")
    assert after >= 0.97
    assert after > before


@pytest.mark.parametrize("province, name, lat, lon", [
    ("06.141", "Casablanca", 33.5731, -7.5898),
    ("04.421", "Rabat", 34.0209, -6.8416),
    ("08.363", "Imilchil", 32.155, -5.635),
])
def test_known_places_lie_in_their_commune(morocco, province, name, lat, lon):
    commune = Commune.objects.get(province_id=province, name_fr=name)
    assert shape(commune.geometry).contains(Point(lon, lat))
