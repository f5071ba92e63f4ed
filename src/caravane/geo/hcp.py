"""Reading HCP's "RGPH 2014 en cartes" WFS responses (GML 3.1.1, gzipped or not).

Each feature is a commune (or the urban centre of a rural commune, with the same codes) or a
province: its attributes as text by local name, and its polygons in lon/lat as HCP's server
gives them, i.e. before ``caravane.geo.sources.correct_hcp_2014`` moves them where they belong.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import shapely

GML = "{http://www.opengis.net/gml}"


@dataclass(frozen=True)
class Feature:
    """One WFS feature: its non-geometry attributes (text) and its polygons."""

    attributes: dict[str, str]
    polygons: list[shapely.Polygon]


def _ring(pos_list: str) -> list[tuple[float, float]]:
    values = [float(value) for value in pos_list.split()]
    return list(zip(values[0::2], values[1::2]))


def _polygons(element) -> list[shapely.Polygon]:
    polygons = []
    for polygon in element.iter(f"{GML}Polygon"):
        rings = [_ring(pos.text) for pos in polygon.iter(f"{GML}posList")]
        polygons.append(shapely.Polygon(rings[0], rings[1:]))
    return polygons


def read_features(path: str | Path) -> list[Feature]:
    """The features of one WFS GML file; a ``.gz`` file is decompressed on the fly."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        try:
            root = ET.parse(f).getroot()
        except (ET.ParseError, OSError) as error:
            raise ValueError(f"{path}: not a readable GML file ({error})") from error
    features = []
    for members in root.iter(f"{GML}featureMembers"):
        for member in members:
            attributes = {}
            polygons = []
            for child in member:
                name = child.tag.rsplit("}", 1)[-1]
                if len(child):
                    polygons.extend(_polygons(child))
                elif child.text is not None:
                    attributes[name] = child.text.strip()
            features.append(Feature(attributes=attributes, polygons=polygons))
    return features


# Commune attributes of the WFS layers read into Commune.indicators_2014 (all percentages), by key.
INDICATORS = {
    "poverty_rate_pct": "pauv2014_T",  # monetary poverty rate, 2014
    "vulnerability_rate_pct": "vul_T",  # share vulnerable to poverty, 2014
    "multidimensional_poverty_pct": "TPMulti201",  # multidimensional poverty headcount rate, 2014
    "multidimensional_poverty_intensity_pct": "IPM2014_T",  # average deprivation share of the poor
    "health_deprivation_share_pct": "DPSP_sante",  # health's share of multidimensional poverty
}
KEY_FIELDS = ("code_reg", "code_prov", "cod_cercle", "cod_com")


def commune_key(feature: Feature, path: str | Path) -> tuple[int, int, int, int]:
    """The (code_reg, code_prov, cod_cercle, cod_com) key of a commune feature."""
    try:
        return tuple(int(float(feature.attributes[name])) for name in KEY_FIELDS)
    except (KeyError, ValueError) as error:
        raise ValueError(f"{path}: a feature has no valid commune code ({error})") from error


def commune_indicators(feature: Feature, path: str | Path) -> dict[str, float]:
    """The indicators a commune feature publishes, validated as percentages (an empty field is left out)."""
    found = {}
    for key, name in INDICATORS.items():
        text = feature.attributes.get(name, "")
        if text == "":
            continue
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 <= value <= 100:
            raise ValueError(f"{path}: {name} of commune {feature.attributes.get('com_fr', '?')} "
                             f"is {text!r}, not a percentage")
        found[key] = value
    return found
