"""In a real browser: a coordinator runs a scenario, watches its progress, sees the map and applies it."""

import datetime

import pytest

pytestmark = [pytest.mark.browser]


@pytest.fixture(autouse=True)
def _needs_chromium():
    from planning.conftest import CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")


def test_run_watch_and_apply_a_scenario(live_asgi, worker_processes, tablet, login, village_row, site_factory,
                                        staff_factory):
    from django.utils import translation

    from caravane.network.models import Deployment, Site
    from caravane.planning.models import Facility, FacilityImport, PlannedStop, Scenario

    batch = FacilityImport.objects.create(source="s", file_format="csv", accepted=1)
    Facility.objects.create(source_import=batch, name="H", kind="hospital", latitude=31.0, longitude=-8.0)
    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, commune=village_row[0])
    staff_factory(role="coordinator", username="coord.browser")
    page = tablet.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, "coord.browser")
    page.goto(live_asgi.url("/planning/"))
    page.fill("#id_name", "Browser run")
    page.check("input[name=regions][value='98']")
    page.fill("#id_n_units", "1")
    page.fill("#id_capacity", "")
    page.fill("#id_max_per_province", "")
    page.fill("#id_reach_km", "45")
    page.fill("#id_horizon_weeks", "1")
    page.fill("#id_time_limit", "5")
    with page.expect_navigation():
        page.click("form.planning-form button[type=submit]")
    # No worker yet: the run waits in line, and the page says so (in the browser's language, French).
    with translation.override("fr"):
        assert page.inner_text("#plan-status") == str(Scenario.Status.QUEUED.label)
    progress = page.evaluate("url => fetch(url).then(r => r.json())", page.get_attribute("#plan-progress", "data-url"))
    assert progress["status"] == "queued" and progress["position"] == 1
    worker_processes.start()
    # The page polls the progress endpoint and reloads itself when the run ends.
    page.wait_for_selector("#plan-map[data-bases='1']", timeout=60_000)
    assert page.locator("#plan-map path.leaflet-interactive").count() >= 5
    assert "Browser run" in page.content()
    with page.expect_navigation():
        page.click("a[href$='/apply']")
    with page.expect_navigation():
        page.click("#plan-moves ~ form button[type=submit]")
    scenario = Scenario.objects.get(name="Browser run")
    assert scenario.status == Scenario.Status.APPLIED
    assert Deployment.objects.get(unit=unit, end_date__isnull=True).base_commune_id == village_row[3].code
    assert PlannedStop.objects.filter(unit=unit).exists()
    assert datetime.date.fromisoformat(scenario.results["dates"][0]).weekday() == 0
    assert not errors, errors
