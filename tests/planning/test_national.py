"""The real data end to end: census communes + healthsites 2020, a national scenario from the UI, applied."""

import datetime

from django.urls import reverse

from caravane.planning.models import PlannedStop, Scenario


def test_coordinator_runs_a_national_scenario_and_applies_it(morocco, healthsites_csv, coordinator, site_factory,
                                                            client, inline_runs):
    from caravane.geo.models import Commune
    from caravane.network.models import Deployment, Site

    commune = Commune.objects.get(code=Commune.objects.filter(kind="rural").order_by("code").values("code")[:1])
    units = [site_factory(kind=Site.Kind.MOBILE_UNIT, commune=commune) for _ in range(50)]
    old = Deployment.objects.create(unit=units[0], province_id=commune.province_id, base_commune=commune,
                                    start_date=datetime.date(2025, 1, 1))
    assert client.login(username="coord", password="caravane-test-pass")
    upload = client.post(reverse("planning:facility_import"), {
        "source": "healthsites-2020",
        "file": _upload("morocco_healthsites_2020.csv", healthsites_csv)})
    assert upload.status_code == 200
    assert b"rows rejected" in upload.content

    response = client.post(reverse("planning:scenario_list"), {
        "name": "National 50", "n_units": 50, "capacity": 60000, "max_per_province": 2,
        "care_kinds": ["hospital", "clinic", "health_centre", "doctors", "network_site"],
        "underserved_km": 10, "reach_km": 30, "rural_bases_only": "on", "horizon_weeks": 4, "working_days": 5,
        "daily_km": 150, "return_to_base": "on", "solver": "heuristic", "time_limit": 20})
    scenario = Scenario.objects.get(name="National 50")
    assert response.status_code == 302, scenario.error
    assert scenario.status == Scenario.Status.DONE, scenario.error
    summary = scenario.results["summary"]
    assert summary["n_units"] == 50
    assert 0 < summary["covered"] <= summary["upper_bound"]
    assert len(scenario.results["communes"]) == Commune.objects.count() == 1503
    assert scenario.results["provinces"][0]["rank"] == 1

    page = client.get(reverse("planning:scenario_detail", args=[scenario.pk]))
    assert page.status_code == 200 and b"plan-map" in page.content and b"Apply" in page.content
    layers = client.get(reverse("planning:scenario_map", args=[scenario.pk])).json()
    assert sum(f["properties"]["layer"] == "base" for f in layers["features"]) == 50
    assert sum(f["properties"]["layer"] == "facility" for f in layers["features"]) > 500
    csv = client.get(reverse("planning:scenario_export", args=[scenario.pk, "provinces.csv"]))
    assert csv.content.decode().startswith("rank,province,name,communes,population,")

    applied = client.post(reverse("planning:scenario_apply", args=[scenario.pk]))
    assert applied.status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.APPLIED
    start = datetime.date.fromisoformat(scenario.results["dates"][0])
    old.refresh_from_db()
    assert old.end_date == start - datetime.timedelta(days=1)
    bases = {u["base"] for u in scenario.results["units"]}
    current = Deployment.objects.filter(start_date=start, unit__in=units)
    assert current.count() == 50 and set(current.values_list("base_commune_id", flat=True)) == bases
    planned = sum(len(day) for u in scenario.results["units"] for day in u["tour"]["days"])
    assert planned > 0 and PlannedStop.objects.filter(scenario=scenario).count() == planned


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")
