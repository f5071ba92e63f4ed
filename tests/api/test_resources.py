"""Resources of the API: geography, sites, catalogues and staff; shared filters, pagination, JSON errors."""

import datetime
import uuid

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def nurse(network, bearer):
    """Headers of nurse_a's bearer token."""
    return bearer(network.nurse_a.user)


def _get(client, url, headers, status=200):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def _names(body, key="name"):
    return sorted(row[key] for row in body["results"])


def test_geography_lists_and_filters(client, network, nurse):
    assert _names(_get(client, "/api/geo/communes", nurse), "name_fr") == ["Aït Alpha", "Beni Beta"]
    assert _names(_get(client, "/api/geo/communes?province=98.002", nurse), "name_fr") == ["Beni Beta"]
    assert _names(_get(client, "/api/geo/communes?kind=rural", nurse), "name_fr") == ["Aït Alpha"]
    assert _names(_get(client, "/api/geo/communes?q=beta", nurse), "name_fr") == ["Beni Beta"]
    commune = _get(client, "/api/geo/communes?q=alpha", nurse)["results"][0]
    assert (commune["population_2024"], commune["kind"], commune["province"], commune["region"]) == (
        4200, "rural", "98.001", "98")
    assert (commune["centroid_lat"], commune["centroid_lon"]) == (31.5, -7.5)
    assert "geometry" not in commune  # boundaries are heavy: only on the detail
    provinces = _get(client, "/api/geo/provinces?region=98", nurse)
    assert [row["code"] for row in provinces["results"]] == ["98.001", "98.002"]
    assert _get(client, "/api/geo/regions/98", nurse)["code"] == "98"


def test_commune_detail_carries_its_geojson_geometry(client, network, nurse):
    body = _get(client, f"/api/geo/communes/{network.commune_a.code}", nurse)
    assert body["geometry"]["type"] == "Polygon"
    assert body["geometry"] == network.commune_a.geometry


def test_site_filters_are_those_of_the_pages(client, network, nurse, site_factory):
    from caravane.network.models import Site, Specialty

    cardiology = Specialty.objects.create(code="cardiology", name_fr="Cardiologie", name_ar="قلب", name_en="Cardiology")
    network.hub.specialties.add(cardiology)
    site_factory(kind=Site.Kind.MOBILE_UNIT, name="UMM Beta", commune=network.commune_b)
    assert _names(_get(client, "/api/sites?kind=mobile_unit", nurse)) == ["UMM Beta"]
    assert _names(_get(client, "/api/sites?province=98.002", nurse)) == ["Centre Beta", "UMM Beta"]
    assert _names(_get(client, "/api/sites?region=98&specialty=cardiology", nurse)) == ["Regional hub"]
    assert _names(_get(client, "/api/sites?q=centre%20alp", nurse)) == ["Centre Alpha"]


@pytest.mark.parametrize("url, field", [("/api/sites?kind=castle", "kind"), ("/api/sites?province=99.999", "province"),
                                        ("/api/sites?specialty=astrology", "specialty"),
                                        ("/api/staff?role=wizard", "role"),
                                        ("/api/geo/communes?kind=suburban", "kind")])
def test_bad_filter_values_are_400_naming_the_field(client, network, nurse, url, field):
    body = _get(client, url, nurse, status=400)
    assert [error["field"] for error in body["errors"]] == [field]
    assert field in body["detail"]


@pytest.mark.parametrize("query, field", [("page=0", "page"), ("page=x", "page"), ("page_size=201", "page_size"),
                                          ("page_size=0", "page_size")])
def test_bad_pagination_is_422_naming_the_field(client, network, nurse, query, field):
    body = _get(client, f"/api/sites?{query}", nurse, status=422)
    assert field in {error["field"] for error in body["errors"]}


def test_lists_are_paginated_with_links(client, network, nurse, site_factory):
    for n in range(5):
        site_factory(name=f"Poste {n}", commune=network.commune_a)
    first = _get(client, "/api/sites?kind=rural_health_centre&page_size=3", nurse)
    assert (first["count"], first["pages"], len(first["results"]), first["previous"]) == (7, 3, 3, None)
    second = _get(client, first["next"], nurse)
    assert second["page"] == 2 and "kind=rural_health_centre" in first["next"]
    third = _get(client, second["next"], nurse)
    assert third["next"] is None and len(third["results"]) == 1
    seen = _names(first) + _names(second) + _names(third)
    assert len(set(seen)) == 7
    beyond = _get(client, "/api/sites?page=9", nurse)
    assert beyond["results"] == [] and beyond["count"] == 8


def test_pages_never_repeat_or_skip_rows_that_tie_on_the_ordering(client, network, nurse, site_factory):
    ids = {str(site_factory(name="Poste", commune=network.commune_b).pk) for _ in range(5)}
    seen = []
    for page in (1, 2, 3):
        seen += [row["id"] for row in _get(client, f"/api/sites?q=poste&page_size=2&page={page}", nurse)["results"]]
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize("path", ["/api/sites/{uuid}", "/api/staff/{uuid}", "/api/sites/{uuid}/staff",
                                  "/api/geo/communes/00.000.00.00", "/api/geo/regions/77", "/api/geo/provinces/77.777"])
def test_unknown_ids_are_404_json(client, network, nurse, path):
    body = _get(client, path.format(uuid=uuid.uuid4()), nurse, status=404)
    assert body["detail"]


def test_unknown_api_addresses_are_404_json(client, network, nurse):
    body = _get(client, "/api/no-such-endpoint", nurse, status=404)
    assert body["detail"] and body["errors"] == []


def test_malformed_ids_are_422_naming_the_parameter(client, network, nurse):
    body = _get(client, "/api/staff/not-a-uuid", nurse, status=422)
    assert [error["field"] for error in body["errors"]] == ["staff_id"]


def test_site_detail_has_referral_chain_specialties_and_equipment(client, network, nurse, site_factory):
    from caravane.network.models import DeviceKind, Site

    national = site_factory(kind=Site.Kind.NATIONAL_CENTRE, name="Centre national")
    network.hub.parent = national
    network.hub.save(update_fields=["parent"])
    ecg = DeviceKind.objects.create(code="ecg", name_fr="ECG", name_ar="تخطيط القلب", name_en="ECG")
    network.site_a.equipment.add(ecg)
    body = _get(client, f"/api/sites/{network.site_a.pk}", nurse)
    assert [site["name"] for site in body["referral_chain"]] == ["Regional hub", "Centre national"]
    assert [device["code"] for device in body["equipment"]] == ["ecg"]
    assert body["specialties"] == [] and body["deployment"] is None and body["staffing"] is None
    assert _get(client, "/api/device-kinds", nurse)["results"][0]["name_en"] == "ECG"


def test_mobile_unit_detail_has_deployment_and_staffing(client, network, nurse, site_factory, staff_factory):
    from caravane.network.models import Deployment, Site

    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, name="UMM Alpha", commune=network.commune_a)
    Deployment.objects.create(unit=unit, province=network.commune_b.province, base_commune=network.commune_b,
                              start_date=datetime.date.today() - datetime.timedelta(days=10))
    staff_factory(role="gp", site=unit)
    body = _get(client, f"/api/sites/{unit.pk}", nurse)
    assert body["deployment"]["base_commune"] == network.commune_b.code
    assert body["deployment"]["province"] == "98.002"
    staffing = body["staffing"]
    assert staffing["counts"]["gp"] == 1
    assert staffing["is_complete"] is False and "nurse" in staffing["missing"]


def test_staff_filters_are_those_of_the_pages(client, network, nurse):
    assert {row["role"] for row in _get(client, "/api/staff?role=gp", nurse)["results"]} == {"gp"}
    body = _get(client, f"/api/sites/{network.site_a.pk}/staff?role=nurse", nurse)
    assert [row["id"] for row in body["results"]] == [str(network.nurse_a.pk)]
    assert [row["id"] for row in _get(client, f"/api/staff?q={network.gp_a.last_name}", nurse)["results"]] == [
        str(network.gp_a.pk)]


def test_specialties_catalogue(client, network, nurse):
    from caravane.network.models import Specialty

    Specialty.objects.create(code="dermatology", name_fr="Dermatologie", name_ar="جلد", name_en="Dermatology")
    assert [row["code"] for row in _get(client, "/api/specialties", nurse)["results"]] == ["dermatology"]
