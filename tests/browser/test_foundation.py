"""The foundation in a real browser: log in, switch to Arabic, read the sites map, open a site."""

import datetime

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def small_network(live_asgi, commune_factory, site_factory, staff_factory):
    """A regional centre with two health centres and a mobile unit, and a nurse at Imilchil."""
    from caravane.network.models import Deployment, Site

    errachidia = commune_factory(region_code="08", province_code="08.381", name="Errachidia", lat=31.93, lon=-4.42)
    imilchil_commune = commune_factory(region_code="08", province_code="08.381", name="Imilchil", lat=32.15, lon=-5.63)
    talsint_commune = commune_factory(region_code="02", province_code="02.191", name="Talsint", lat=32.54, lon=-3.44)
    regional = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="CRT Drâa-Tafilalet", commune=errachidia)
    imilchil = site_factory(name="CSR Imilchil", commune=imilchil_commune, parent=regional)
    site_factory(name="CSR Talsint", commune=talsint_commune, parent=regional)
    tounfite = commune_factory(region_code="08", province_code="08.381", name="Tounfite", lat=32.47, lon=-5.24)
    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, name="UMM Midelt 1", commune=tounfite, parent=regional)
    Deployment.objects.create(unit=unit, province=tounfite.province, base_commune=tounfite,
                              start_date=datetime.date.today())
    staff_factory(role="nurse", site=imilchil, username="nurse.imilchil")
    return {"regional": regional, "imilchil": imilchil, "unit": unit}


def test_arabic_map_and_site_page(live_asgi, tablet, login, screenshot, small_network):
    page = tablet.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    login(page, "nurse.imilchil")
    assert page.locator("html").get_attribute("lang") == "fr"

    with page.expect_navigation():
        page.click("button[data-language=ar]")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"

    from caravane.network.models import Site

    site_count = Site.objects.filter(active=True).count()
    page.goto(live_asgi.url("/sites/map/"))
    page.wait_for_selector("#site-map[data-markers]")
    assert page.locator("#site-map").get_attribute("data-markers") == str(site_count)
    assert page.locator("#site-map path.site-marker").count() == site_count >= 4
    assert page.locator("#site-map path.site-marker.understaffed").count() == 1
    assert page.locator("#site-map path.province-outline").count() >= 2  # other tests may load all of Morocco
    assert page.locator("#site-map path.referral-link").count() == 3
    # In Arabic the legend sits on the left of the map: the layout is mirrored.
    map_box = page.locator("#site-map").bounding_box()
    legend_box = page.locator(".legend").bounding_box()
    assert legend_box["x"] + legend_box["width"] <= map_box["x"]
    screenshot(page, "map-ar-1024x768")

    page.locator("#site-map path.site-marker.kind-rural_health_centre").first.click()
    link = page.locator(".leaflet-popup-content a")
    link.wait_for()
    name = link.inner_text()
    with page.expect_navigation():
        link.click()
    assert "/sites/" in page.url
    assert name in page.locator("h1").inner_text()
    assert page.locator("html").get_attribute("dir") == "rtl"
    screenshot(page, "site-ar-1024x768")

    page.goto(live_asgi.url(f"/sites/{small_network['imilchil'].pk}/"))
    assert page.locator("#staff").is_visible()  # the nurse's own site: staff shown
    assert not errors, errors
