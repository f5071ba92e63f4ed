"""The planning API: run, read and apply a scenario; refusals name the field; roles are enforced."""

import datetime

from django.utils import translation

import pytest

from caravane.planning.models import Facility, FacilityImport, PlannedStop

SMALL = {"regions": ["98"], "n_units": 2, "capacity": None, "reach_km": 45, "max_per_province": 1, "horizon_weeks": 1,
         "tours_time_limit": 0.3}


@pytest.fixture
def hospital(village_row):
    batch = FacilityImport.objects.create(source="s", file_format="csv", accepted=1)
    return Facility.objects.create(source_import=batch, name="H", kind="hospital", latitude=31.0, longitude=-8.0)


def test_run_read_and_apply_through_the_api(coordinator, site_factory, village_row, hospital, client, inline_runs):
    from caravane.network.models import Deployment, Site

    units = [site_factory(kind=Site.Kind.MOBILE_UNIT, commune=village_row[0]) for _ in range(2)]
    later = Deployment.objects.create(unit=units[1], province_id="98.001", base_commune=village_row[0],
                                      start_date=datetime.date.today() + datetime.timedelta(days=60))
    client.force_login(coordinator)
    created = client.post("/api/planning/scenarios", {"name": "api", "parameters": SMALL},
                          content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    detail = client.get(f"/api/planning/scenarios/{pk}").json()
    assert detail["status"] == "done" and len(detail["units"]) == 2
    assert detail["summary"]["covered"] <= detail["summary"]["upper_bound"]
    assert detail["provinces"][0]["rank"] == 1
    assert detail["regions"][0]["region"] == "98" and detail["regions"][0]["units"] == 2
    assert detail["pure_coverage"]["summary"]["covered"] >= detail["summary"]["covered"]
    applied = client.post(f"/api/planning/scenarios/{pk}/apply")
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    assert Deployment.objects.filter(unit__in=units, end_date__isnull=True).count() == 2
    later.refresh_from_db()
    assert later.end_date < later.start_date  # superseded: an empty period, kept on record
    stops = client.get("/api/planning/stops", {"unit": str(units[0].pk)}).json()
    assert stops["count"] == PlannedStop.objects.filter(unit=units[0]).count() > 0
    again = client.post(f"/api/planning/scenarios/{pk}/apply")
    assert again.status_code == 400 and "status" in again.content.decode()


def test_bad_parameters_answer_400_naming_the_field(coordinator, client):
    client.force_login(coordinator)
    response = client.post("/api/planning/scenarios", {"parameters": {"n_units": 0}}, content_type="application/json")
    assert response.status_code == 400
    assert "n_units" in response.content.decode()


def test_a_nurse_may_not_run_or_apply_plans(staff_factory, client):
    from caravane.audit.models import AuditEvent

    nurse = staff_factory(role="nurse").user
    client.force_login(nurse)
    assert client.post("/api/planning/scenarios", {"parameters": {}}, content_type="application/json").status_code == 403
    assert client.get("/planning/").status_code == 403
    assert AuditEvent.objects.filter(actor=nurse, outcome="denied").exists()


def test_apply_needs_enough_mobile_units(coordinator, village_row, hospital, client, inline_runs):
    client.force_login(coordinator)
    pk = client.post("/api/planning/scenarios", {"parameters": SMALL}, content_type="application/json").json()["id"]
    response = client.post(f"/api/planning/scenarios/{pk}/apply")
    assert response.status_code == 400 and "active mobile units" in response.content.decode()


def test_page_form_errors_create_nothing(coordinator, client, village_row):
    from caravane.planning.models import Scenario

    client.force_login(coordinator)
    response = client.post("/planning/", {"n_units": 0})
    assert response.status_code == 400
    assert not Scenario.objects.exists()


def test_progress_endpoint_reports_a_queued_run(coordinator, client):
    from caravane.planning.actions import do_create_scenario

    first = do_create_scenario(actor=coordinator, name="q", parameters={})
    scenario = do_create_scenario(actor=coordinator, name="q2", parameters={})
    client.force_login(coordinator)
    state = client.get(f"/planning/{scenario.pk}/progress").json()
    assert state == {"status": "queued", "status_display": "Queued", "position": 2, "progress": 0.0,
                     "text": "Waiting for a free planner: number 2 in line.", "error": "", "finished": False}
    page = client.get(f"/planning/{first.pk}/")
    assert "Waiting for a free planner: number 1 in line." in page.content.decode()


def test_two_scenarios_compare_side_by_side(coordinator, village_row, hospital, client, inline_runs):
    client.force_login(coordinator)
    first = client.post("/api/planning/scenarios", {"name": "two", "parameters": SMALL},
                        content_type="application/json").json()["id"]
    second = client.post("/api/planning/scenarios", {"name": "one", "parameters": {**SMALL, "n_units": 1}},
                         content_type="application/json").json()["id"]
    page = client.get(f"/planning/{first}/compare/{second}")
    assert page.status_code == 200
    rows = dict(page.context["cmp"]["rows"])
    assert rows["Units"] == ["2", "1"]
    served = [int(v.replace(",", "")) for v in rows["People served"]]
    assert served[0] >= served[1] > 0
    assert ("Number of units", "2", "1") in page.context["cmp"]["parameters"]
    assert b"covered" not in page.content and b"upper_bound" not in page.content and b"n_units" not in page.content
    with translation.override("fr"):
        french = client.get(f"/planning/{first}/compare/{second}", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Personnes desservies" in french.content.decode() and "Nombre d’unités" in french.content.decode()


def test_progress_is_refused_to_a_role_without_planning(staff_factory, coordinator, client):
    from caravane.audit.models import AuditEvent
    from caravane.planning.actions import do_create_scenario

    scenario = do_create_scenario(actor=coordinator, name="q", parameters={})
    nurse = staff_factory(role="nurse").user
    client.force_login(nurse)
    assert client.get(f"/planning/{scenario.pk}/progress").status_code == 403
    assert client.get(f"/planning/{scenario.pk}/").status_code == 403
    assert AuditEvent.objects.filter(actor=nurse, outcome="denied", object_id=str(scenario.pk)).count() == 2


def test_the_scenario_page_names_parameters_and_regions_in_the_readers_language(coordinator, village_row, hospital,
                                                                                  client, inline_runs):
    from caravane.geo.models import Region

    Region.objects.filter(code="98").update(name_fr="Région des villages", name_ar="جهة القرى")
    client.force_login(coordinator)
    pk = client.post("/api/planning/scenarios", {"name": "ar", "parameters": SMALL},
                     content_type="application/json").json()["id"]
    form = client.get("/planning/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'type="checkbox" name="regions" value="98"' in form and "جهة القرى" in form
    page = client.get(f"/planning/{pk}/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "عدد الوحدات" in page and "التغطية حسب الجهة" in page and "التغطية الصرفة" in page
    assert "جهة القرى" in page
    for raw in ("n_units", "max_per_province", "upper_bound", "covered_share_pct", "regional_minimum"):
        assert raw not in page


def test_applying_from_the_page_asks_first_and_moves_only_the_units_whose_base_changes(
        coordinator, site_factory, village_row, hospital, client, inline_runs):
    from caravane.network.models import Deployment, Site

    client.force_login(coordinator)
    pk = client.post("/api/planning/scenarios", {"name": "page", "parameters": SMALL},
                     content_type="application/json").json()["id"]
    bases = [u["base"] for u in client.get(f"/api/planning/scenarios/{pk}").json()["units"]]
    staying = site_factory(kind=Site.Kind.MOBILE_UNIT, commune=village_row[0])
    moving = site_factory(kind=Site.Kind.MOBILE_UNIT, commune=village_row[0])
    kept = Deployment.objects.create(unit=staying, province_id=bases[0][:6], base_commune_id=bases[0],
                                     start_date=datetime.date(2025, 1, 1))
    confirm = client.get(f"/planning/{pk}/apply")
    moves = {m.unit.pk: m.moves for m in confirm.context["moves"]}
    assert moves == {staying.pk: False, moving.pk: True}
    assert "Unchanged" in confirm.content.decode()
    assert client.post(f"/planning/{pk}/apply").status_code == 200  # no confirmation: the page again
    assert not Deployment.objects.filter(unit=moving).exists()
    done = client.post(f"/planning/{pk}/apply", {"confirm": "1"}, follow=True)
    assert done.redirect_chain[-1][0] == "/mobile-units/"
    kept.refresh_from_db()
    assert kept.end_date is None  # the unit already at its base keeps its deployment
    new = Deployment.objects.get(unit=moving, end_date__isnull=True)
    assert new.base_commune_id == bases[1] and new.start_date == datetime.date.today()
    assert new.base_commune.name_fr in done.content.decode()
    assert PlannedStop.objects.filter(unit=staying).exists() and PlannedStop.objects.filter(unit=moving).exists()
