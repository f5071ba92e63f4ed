"""The national coordinator plans with the defaults, weighs fairness against pure coverage, confirms and applies.

French and Arabic, on a 1024x768 tablet: the scenario is created with the default parameters (only the number
of units the network has is set), its page shows each region's coverage beside the pure-coverage optimum,
applying asks first, and the mobile units' page shows the new bases at once.
"""

import re

import pytest

pytestmark = [pytest.mark.browser]


@pytest.fixture
def oases_and_north(commune_factory, site_factory, staff_factory):
    """Two regions: a row of oasis villages (far from care, many people) and one small northern commune; a hospital
    at the first village, two mobile units and a national coordinator."""
    from caravane.geo.models import Region
    from caravane.network.models import Site
    from caravane.planning.models import Facility, FacilityImport

    villages = [commune_factory(name=f"Oasis {k}", lat=31.0, lon=-8.0 + 0.3 * k, population=1000 * (k + 1),
                                province_code="98.001" if k < 3 else "98.002") for k in range(5)]
    north = commune_factory(region_code="97", province_code="97.001", name="Tizi Nord", lat=34.0, lon=-5.0,
                            population=900)
    Region.objects.filter(code="98").update(name_fr="Région des oasis", name_ar="جهة الواحات")
    Region.objects.filter(code="97").update(name_fr="Région du nord", name_ar="جهة الشمال")
    batch = FacilityImport.objects.create(source="s", file_format="csv", accepted=1)
    Facility.objects.create(source_import=batch, name="Hôpital", kind="hospital", latitude=31.0, longitude=-8.0)
    units = [site_factory(kind=Site.Kind.MOBILE_UNIT, name=f"Unité {k}", commune=villages[0]) for k in (1, 2)]
    staff_factory(role="coordinator", username="coord.national")
    return villages, north, units


@pytest.mark.parametrize("locale", ["fr-FR", "ar-MA"])
def test_coordinator_creates_the_default_scenario_compares_it_confirms_and_applies(
        live_asgi, person, screenshot, oases_and_north, locale):
    from caravane.network.models import Deployment
    from caravane.planning.models import Scenario
    from caravane.tasks.worker import drain

    villages, north, units = oases_and_north
    lang = locale[:2]
    _context, page, errors = person("coord.national", locale=locale)
    page.goto(live_asgi.url("/planning/"))
    screenshot(page, f"planning-form-{lang}")
    page.locator("fieldset, #id_regions").first.scroll_into_view_if_needed()
    screenshot(page, f"planning-form-regions-{lang}")
    # The regions are named in the reader's language; none ticked means all of Morocco.
    assert ("جهة الواحات" if lang == "ar" else "Région des oasis") in page.inner_text("#id_regions")
    page.fill("#id_name", f"Défaut {lang}")
    page.fill("#id_n_units", "2")
    with page.expect_navigation():
        page.click("form.planning-form button[type=submit]")
    drain()  # the background worker's part, in this thread
    page.wait_for_selector("#plan-regions", timeout=60_000)
    screenshot(page, f"planning-result-{lang}")
    scenario = Scenario.objects.get(name=f"Défaut {lang}")
    assert scenario.parameters["weight_by_underservice"] and scenario.parameters["regional_minimum"] == "share"
    table = page.locator("#plan-regions table")
    table.scroll_into_view_if_needed()
    screenshot(page, f"planning-regions-{lang}")
    rows = {row.locator("th").inner_text(): row.locator("td").all_inner_texts()
            for row in table.locator("tbody tr").all()}
    north_name = "جهة الشمال" if lang == "ar" else "Région du nord"
    # Fairness reaches the small northern region (1 unit, all 900 people); pure coverage leaves it out.
    assert rows[north_name][1] == "1" and _number(rows[north_name][2]) == 900
    assert rows[north_name][5] == "0" and _number(rows[north_name][6]) == 0

    with page.expect_navigation():
        page.click("a[href$='/apply']")
    assert page.locator("#plan-moves tbody tr").count() == 2
    screenshot(page, f"planning-confirm-{lang}")
    with page.expect_navigation():
        page.click("#plan-moves ~ form button[type=submit]")
    assert page.url.endswith("/mobile-units/")
    screenshot(page, f"planning-units-{lang}")
    base_names = {d.base_commune.localized_name if lang == "fr" else d.base_commune.name_ar
                  for d in Deployment.objects.filter(unit__in=units, end_date__isnull=True).select_related(
                      "base_commune")}
    assert len(base_names) >= 1 and all(name in page.inner_text("table.units") for name in base_names)
    assert "Tizi Nord" in page.inner_text("table.units") or lang == "ar"
    assert Scenario.objects.get(pk=scenario.pk).status == Scenario.Status.APPLIED
    assert not errors, errors


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))) or 0)
