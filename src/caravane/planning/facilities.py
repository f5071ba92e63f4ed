"""Reading facility lists (healthsites.io / OpenStreetMap CSV or GeoJSON, or a plain CSV).

Two layouts are understood. The healthsites.io export has ``osm_id, amenity, healthcare,
name, lon, lat`` (and many more columns, ignored); the plain one has ``name, kind, lon, lat``.
A file lacking a required column is refused whole; a row with bad coordinates, a point
outside Morocco or no usable kind is rejected with its reason and the rest is kept.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from caravane.planning.models import FacilityKind

HEALTHSITES_COLUMNS = ("osm_id", "amenity", "name", "lon", "lat")
PLAIN_COLUMNS = ("name", "kind", "lon", "lat")
# Mainland Morocco and the southern provinces of the census (Laayoune to Lagouira).
MOROCCO_BOUNDS = {"lat": (20.7, 35.95), "lon": (-17.2, -0.95)}
# OpenStreetMap amenity/healthcare values and their kind in our model.
OSM_KINDS = {
    "hospital": FacilityKind.HOSPITAL, "clinic": FacilityKind.CLINIC, "doctors": FacilityKind.DOCTORS,
    "doctor": FacilityKind.DOCTORS, "dentist": FacilityKind.DENTIST, "pharmacy": FacilityKind.PHARMACY,
    "health_centre": FacilityKind.HEALTH_CENTRE, "centre": FacilityKind.HEALTH_CENTRE,
    "health_post": FacilityKind.HEALTH_CENTRE,
}


class ImportRefused(ValueError):
    """The whole file is unusable; the message says why."""


@dataclass
class ParsedFacilities:
    """The rows kept and the rows rejected (with their 1-based row number and reason)."""

    file_format: str
    rows: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def parse_facilities(content: str | bytes, *, filename: str = "", inside=None) -> ParsedFacilities:
    """Parse a CSV or GeoJSON facility list; ``inside(lat, lon)`` says whether a point is in Morocco."""
    if isinstance(content, bytes):
        content = content.decode("utf-8-sig")
    text = content.lstrip("\ufeff")
    inside = inside or within_bounds
    if filename.lower().endswith((".geojson", ".json")) or text.lstrip().startswith("{"):
        parsed, records = ParsedFacilities("geojson"), _geojson_records(text)
    else:
        parsed, records = ParsedFacilities("csv"), _csv_records(text)
    for number, record in records:
        reason = _check(record, inside)
        if reason:
            parsed.rejected.append({"row": number, "name": record.get("name", ""), "reason": reason})
        else:
            parsed.rows.append(record)
    return parsed


def within_bounds(lat: float, lon: float) -> bool:
    """Whether a point lies in Morocco's bounding box."""
    return (MOROCCO_BOUNDS["lat"][0] <= lat <= MOROCCO_BOUNDS["lat"][1]
            and MOROCCO_BOUNDS["lon"][0] <= lon <= MOROCCO_BOUNDS["lon"][1])


def _csv_records(text: str):
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    layout = HEALTHSITES_COLUMNS if "osm_id" in columns or "amenity" in columns else PLAIN_COLUMNS
    missing = [c for c in layout if c not in columns]
    if missing:
        raise ImportRefused(_("Missing column(s): %(columns)s (expected %(layout)s).") % {
            "columns": ", ".join(missing), "layout": ", ".join(layout)})
    for number, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        kind = row.get("kind") if layout is PLAIN_COLUMNS else (row.get("amenity") or row.get("healthcare"))
        yield number, {"name": row.get("name", ""), "kind_raw": kind or "", "lat": row.get("lat"),
                       "lon": row.get("lon"), "external_id": row.get("osm_id", "")}


def _geojson_records(text: str):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(_("Not valid GeoJSON: %(error)s.") % {"error": exc}) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ImportRefused(_("A GeoJSON FeatureCollection is expected."))
    for number, feature in enumerate(data.get("features") or [], start=1):
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        coords = geometry.get("coordinates") if geometry.get("type") == "Point" else None
        lon, lat = (coords[0], coords[1]) if isinstance(coords, list) and len(coords) >= 2 else (None, None)
        kind = props.get("kind") or props.get("amenity") or props.get("healthcare") or ""
        yield number, {"name": str(props.get("name") or ""), "kind_raw": str(kind), "lat": lat, "lon": lon,
                       "external_id": str(props.get("osm_id") or feature.get("id") or "")}


def _check(record: dict, inside) -> str:
    """Normalise one record in place; return why it is rejected ("" when kept)."""
    try:
        lat, lon = float(record["lat"]), float(record["lon"])
    except (TypeError, ValueError):
        return _("Bad coordinates: lat=%(lat)r lon=%(lon)r are not numbers.") % {
            "lat": record["lat"], "lon": record["lon"]}
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return _("Bad coordinates: lat=%(lat)s lon=%(lon)s are out of range.") % {"lat": lat, "lon": lon}
    if not inside(lat, lon):
        return _("Outside Morocco: lat=%(lat)s lon=%(lon)s.") % {"lat": lat, "lon": lon}
    raw = record.pop("kind_raw").strip().lower()
    kind = raw if raw in FacilityKind.values else OSM_KINDS.get(raw)
    if not kind:
        return _("Unknown facility kind %(kind)r.") % {"kind": raw} if raw else _("No facility kind.")
    record.update(lat=lat, lon=lon, kind=str(kind),
                  name=(record["name"] or str(FacilityKind(kind).label))[:200], external_id=record["external_id"][:40])
    return ""


def morocco_test(communes) -> callable:
    """A point-in-Morocco test from the communes' boundaries (bounding box when there are none)."""
    import shapely
    from shapely.geometry import shape

    shapes = [shape(c.geometry) for c in communes if c.geometry]
    if not shapes:
        return within_bounds
    tree = shapely.STRtree(shapes)

    def inside(lat: float, lon: float) -> bool:
        # Points up to ~2 km off the mapped boundary (the coast, simplified outlines) still count.
        return within_bounds(lat, lon) and len(tree.query(shapely.Point(lon, lat), predicate="dwithin",
                                                          distance=0.02)) > 0

    return inside
