"""Independent references for HCP's 2014 geometry, read from ../shared (OpenStreetMap, healthsites).

Used by the geo tests and by bench/geo_datum_shift.py, which measures the correction they check.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon

from caravane.geo import geometry, hcp

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MOROCCO = SHARED_DATA / "morocco"
HCP_PROVINCES_2014 = MOROCCO / "hcp_rgph2014_cartes" / "provinces"
HCP_COMMUNES_2014 = MOROCCO / "hcp_rgph2014_cartes" / "communes"
OSM_PROVINCES = MOROCCO / "osm_morocco_map" / "provinces.json"
HEALTHSITES = MOROCCO / "healthsites_2020" / "morocco_healthsites_2020.csv"
# Morocco, Western Sahara included (lon_min, lat_min, lon_max, lat_max).
MOROCCO_BBOX = (-17.2, 20.7, -0.9, 36.0)


def osm_provinces() -> dict[str, MultiPolygon]:
    """OpenStreetMap's 75 provinces (TopoJSON, quantised arcs) by ISO 3166-2 id."""
    topology = json.loads(OSM_PROVINCES.read_text(encoding="utf-8"))
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # delta-encoded integer positions
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indices):
        points = []
        for index in indices:
            part = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(part if not points else part[1:])
        return points

    found = {}
    for item in topology["objects"]["provinces"]["geometries"]:
        polygons = [item["arcs"]] if item["type"] == "Polygon" else item["arcs"]
        found[item["id"]] = MultiPolygon([part for rings in polygons for part in geometry.polygons_in(
            shapely.make_valid(Polygon(ring(rings[0]), [ring(r) for r in rings[1:]])))])
    return found


def hcp_provinces() -> dict[int, MultiPolygon]:
    """HCP's 2014 province polygons (as served, uncorrected) by 3-digit province code."""
    found = {}
    for path in sorted(HCP_PROVINCES_2014.glob("*.xml.gz")):
        for feature in hcp.read_features(path):
            found[int(float(feature.attributes["code_prov"]))] = MultiPolygon(feature.polygons)
    return found


def match_provinces(hcp_by_code: dict, osm_by_id: dict, max_distance_deg: float = 0.5) -> list[tuple]:
    """(code, hcp, osm) pairs: each HCP province with the OSM province whose centroid is nearest,
    kept only when the pairing is mutual (one-to-one) and the areas agree within 25%."""
    def nearest(geometry, candidates):
        return min(candidates, key=lambda key: geometry.centroid.distance(candidates[key].centroid))

    pairs = []
    for code, geometry in hcp_by_code.items():
        osm_id = nearest(geometry, osm_by_id)
        other = osm_by_id[osm_id]
        if nearest(other, hcp_by_code) != code:
            continue
        if geometry.centroid.distance(other.centroid) > max_distance_deg:
            continue
        if not 0.8 < geometry.area / other.area < 1.25:
            continue
        pairs.append((code, geometry, other))
    return pairs


def iou(a, b) -> float:
    """Intersection over union of two areas."""
    return a.intersection(b).area / a.union(b).area


def healthsite_points() -> list[tuple[float, float]]:
    """(lon, lat) of the healthsites.io points inside Morocco's bounding box."""
    lon_min, lat_min, lon_max, lat_max = MOROCCO_BBOX
    points = []
    with HEALTHSITES.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if not row["lon"] or not row["lat"]:
                continue
            lon, lat = float(row["lon"]), float(row["lat"])
            if lon_min <= lon <= lon_max and lat_min <= lat <= lat_max:
                points.append((lon, lat))
    return points
