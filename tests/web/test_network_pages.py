"""The foundation's pages: dashboard, sites directory and filters, site, staff, mobile units, map."""

import pytest
from django.urls import reverse

from caravane.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _names(response):
    return response.content.decode()


def test_every_page_requires_login(client, network):
    site = network["imilchil"]
    urls = [reverse("home"), reverse("network_dashboard"), reverse("site_list"), reverse("site_map"), reverse("site_map_data"),
            reverse("map_outlines"), reverse("mobile_units"), reverse("site_detail", args=[site.pk]),
            reverse("site_staff", args=[site.pk])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_the_dashboard_counts_sites_by_kind_and_flags_understaffed_units(nurse_client, network):
    response = nurse_client.get(reverse("network_dashboard"))
    assert response.status_code == 200
    html = _names(response)
    assert f'href="{reverse("site_list")}?kind=rural_health_centre"><strong>2</strong>' in html
    assert f'href="{reverse("site_list")}?kind=mobile_unit"><strong>1</strong>' in html
    assert "UMM Midelt 1" in html


def test_site_list_filters_by_kind_region_and_province(nurse_client, network):
    url = reverse("site_list")
    html = _names(nurse_client.get(url, {"kind": "rural_health_centre"}))
    assert "CSR Imilchil" in html and "CSR Talsint" in html and "UMM Midelt 1" not in html
    html = _names(nurse_client.get(url, {"region": "02"}))
    assert "CSR Talsint" in html and "CSR Imilchil" not in html
    html = _names(nurse_client.get(url, {"province": "08.381"}))
    assert "CSR Imilchil" in html and "UMM Midelt 1" in html and "CSR Talsint" not in html
    html = _names(nurse_client.get(url, {"specialty": "cardiology"}))
    assert "CRT Drâa-Tafilalet" in html and "CSR Imilchil" not in html
    html = _names(nurse_client.get(url, {"q": "talsint"}))
    assert "CSR Talsint" in html and "CSR Imilchil" not in html


def test_site_list_invalid_filter_gives_a_clear_message(nurse_client, network):
    response = nurse_client.get(reverse("site_list"), {"kind": "hospital", "region": "08"})
    assert response.status_code == 400
    html = _names(response)
    assert 'role="alert"' in html
    assert "Type" in html  # the French label of the "Kind" filter names the faulty field
    assert 'aria-invalid="true"' in html
    # The valid filter still applies; the invalid one is ignored, not guessed.
    assert "CSR Imilchil" in html and "CSR Talsint" not in html


def test_site_list_paginates(nurse_client, site_factory, network):
    for n in range(30):
        site_factory(name=f"Centre {n:02d}", commune=network["imilchil"].commune)
    first = _names(nurse_client.get(reverse("site_list")))
    assert 'rel="next"' in first
    second = _names(nurse_client.get(reverse("site_list"), {"page": 2}))
    assert 'rel="prev"' in second
    assert nurse_client.get(reverse("site_list"), {"page": "not-a-number"}).status_code == 200


def test_site_list_flags_understaffed_unit(nurse_client, network):
    html = _names(nurse_client.get(reverse("site_list"), {"kind": "mobile_unit"}))
    assert "UMM Midelt 1" in html and 'class="badge bad"' in html


def test_site_page_shows_place_chain_specialties_equipment_children(nurse_client, network):
    html = _names(nurse_client.get(reverse("site_detail", args=[network["imilchil"].pk])))
    assert "Imilchil" in html and "Province 08.381" in html and "Région 08" in html
    assert "32.1500, -5.6300" in html
    assert "CRT Drâa-Tafilalet" in html  # referral chain
    assert "Électrocardiographe" in html
    regional = _names(nurse_client.get(reverse("site_detail", args=[network["regional"].pk])))
    assert "Cardiologie" in regional
    assert "CSR Imilchil" in regional and "CSR Talsint" in regional  # children


def test_site_page_shows_staff_only_within_scope(nurse_client, nurse, network):
    own = nurse_client.get(reverse("site_detail", args=[network["imilchil"].pk]))
    assert 'id="staff"' in own.content.decode() and nurse.last_name in own.content.decode()
    assert AuditEvent.objects.filter(actor=nurse.user, action="view_staff", outcome="allowed",
                                     object_id=str(network["imilchil"].pk)).exists()
    other = nurse_client.get(reverse("site_detail", args=[network["talsint"].pk]))
    assert other.status_code == 200 and 'id="staff"' not in other.content.decode()


def test_staff_page_out_of_scope_is_denied_and_audited(nurse_client, nurse, network, staff_factory):
    talsint_gp = staff_factory(role="gp", site=network["talsint"])
    response = nurse_client.get(reverse("site_staff", args=[network["talsint"].pk]))
    assert response.status_code == 403
    assert talsint_gp.last_name not in response.content.decode()
    denied = AuditEvent.objects.filter(actor=nurse.user, outcome="denied", object_id=str(network["talsint"].pk))
    assert denied.count() == 1
    assert denied.get().action == "view_staff"


def test_staff_page_in_scope_is_allowed_and_audited(nurse_client, nurse, network, staff_factory):
    colleague = staff_factory(role="gp", site=network["imilchil"])
    response = nurse_client.get(reverse("site_staff", args=[network["imilchil"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert colleague.last_name in html and "Médecin généraliste" in html and nurse.last_name in html
    assert AuditEvent.objects.filter(actor=nurse.user, action="view_staff", outcome="allowed",
                                     object_id=str(network["imilchil"].pk), path__contains="/staff/").count() == 1


def test_staff_page_of_unknown_site_is_404(nurse_client, network):
    assert nurse_client.get(reverse("site_staff", args=["01890000-0000-7000-8000-000000000000"])).status_code == 404


def test_mobile_units_page_flags_understaffed_unit(nurse_client, network, staff_factory):
    url = reverse("mobile_units")
    html = _names(nurse_client.get(url))
    assert "UMM Midelt 1" in html and "Imilchil" in html and 'class="understaffed"' in html
    for role in ("gp", "nurse", "nurse", "assistant"):
        staff_factory(role=role, site=network["unit"])
    html = _names(nurse_client.get(url))
    assert 'class="understaffed"' not in html and 'class="badge ok"' in html


def test_map_page_and_data(nurse_client, network):
    page = _names(nurse_client.get(reverse("site_map")))
    assert "vendor/leaflet/leaflet.js" in page and "caravane/js/site_map.js" in page
    assert "<script>" not in page  # no inline script: the CSP forbids it
    data = nurse_client.get(reverse("site_map_data")).json()
    by_name = {site["name"]: site for site in data["sites"]}
    assert by_name["UMM Midelt 1"]["understaffed"] is True
    assert by_name["CSR Imilchil"]["kind"] == "rural_health_centre"
    assert len(data["links"]) == 3
    outlines = nurse_client.get(reverse("map_outlines")).json()
    assert {feature["properties"]["code"] for feature in outlines["features"]} == {"08.381", "02.191"}


def test_leaflet_is_served_by_the_app(nurse_client):
    response = nurse_client.get("/static/vendor/leaflet/leaflet.js")
    assert response.status_code == 200


def test_regional_coordinator_reads_staff_across_the_region(client, network, staff_factory):
    from caravane.geo.models import Region

    staff_factory(role="coordinator", username="coord.oriental", coverage_region=Region.objects.get(code="02"))
    talsint_nurse = staff_factory(role="nurse", site=network["talsint"])
    assert client.login(username="coord.oriental", password="caravane-test-pass")
    response = client.get(reverse("site_staff", args=[network["talsint"].pk]))
    assert response.status_code == 200 and talsint_nurse.last_name in response.content.decode()
    assert client.get(reverse("site_staff", args=[network["imilchil"].pk])).status_code == 403


def test_map_data_is_sent_compressed(nurse_client, network):
    response = nurse_client.get(reverse("map_outlines"), HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert "private" in response["Cache-Control"]
