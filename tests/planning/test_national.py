"""The real data end to end: census communes + healthsites 2020, the default national scenario from the UI, applied."""

import datetime

from django.urls import reverse
from django.utils import timezone

from caravane.planning.models import PlannedStop, Scenario


def test_the_default_national_scenario_reaches_every_region_and_is_applied_after_confirmation(
        morocco, healthsites_csv, coordinator, site_factory, client, inline_runs):
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

    # The default model; only the run's time knobs are shortened (one week of tours, short time limits).
    response = client.post("/api/planning/scenarios", {"name": "National 50", "parameters": {
        "horizon_weeks": 1, "time_limit": 4, "tours_time_limit": 0.1}}, content_type="application/json")
    scenario = Scenario.objects.get(name="National 50")
    assert response.status_code == 201, scenario.error
    assert scenario.status == Scenario.Status.DONE, scenario.error
    assert scenario.parameters["n_units"] == 50 and scenario.parameters["max_per_province"] == 2
    assert scenario.parameters["weight_by_underservice"] and scenario.parameters["regional_minimum"] == "share"
    results = scenario.results
    summary, pure = results["summary"], results["pure_coverage"]["summary"]
    assert summary["n_units"] == 50
    assert 0 < summary["objective_value"] <= summary["upper_bound"]
    assert len(results["communes"]) == Commune.objects.count() == 1503
    # Every region with underserved communes is reached; no province holds more than two units.
    needy = [r for r in results["regions"] if r["underserved_population"]]
    assert len(needy) == summary["regions_underserved"] == summary["regions_reached"] == 12
    assert all(r["served"] > 0 and r["units"] >= 1 for r in needy)
    per_province = {}
    for unit in results["units"]:
        per_province[unit["province"]] = per_province.get(unit["province"], 0) + 1
    assert max(per_province.values()) <= 2
    # The pure-coverage optimum serves more people but leaves regions out: that is what fairness costs.
    assert pure["covered"] >= summary["covered"] > 0.9 * pure["covered"]
    assert pure["regions_reached"] < summary["regions_reached"]
    assert summary["top_decile_reached"] > pure["top_decile_reached"]
    assert summary["min_region_coverage_pct"] > pure["min_region_coverage_pct"] == 0

    page = client.get(reverse("planning:scenario_detail", args=[scenario.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "plan-map" in html and "Coverage per region" in html
    assert "Drâa-Tafilalet" in html and "Pure coverage" in html
    # The solver's word, as it reported it: optimal only when its bound proves it (for this model).
    assert page.context["solver_status"] == ("optimal for this model" if summary["status"] == "optimal"
                                             else "feasible, not proven optimal")
    assert page.context["solver_status"] in html
    layers = client.get(reverse("planning:scenario_map", args=[scenario.pk])).json()
    assert sum(f["properties"]["layer"] == "base" for f in layers["features"]) == 50

    # Applying asks first: the confirmation lists the moves; a POST without the confirmation changes nothing.
    confirm = client.get(reverse("planning:scenario_apply", args=[scenario.pk]))
    assert confirm.status_code == 200 and "Confirm and apply" in confirm.content.decode()
    assert sum(m.moves for m in confirm.context["moves"]) == 50
    unconfirmed = client.post(reverse("planning:scenario_apply", args=[scenario.pk]))
    assert unconfirmed.status_code == 200
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.DONE
    applied = client.post(reverse("planning:scenario_apply", args=[scenario.pk]), {"confirm": "1"})
    assert applied.status_code == 302 and applied["Location"] == reverse("mobile_units")
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.APPLIED
    today = timezone.localdate()
    old.refresh_from_db()
    assert old.end_date == today - datetime.timedelta(days=1)
    bases = {u["base"] for u in results["units"]}
    current = Deployment.objects.filter(start_date=today, unit__in=units)
    assert current.count() == 50 and set(current.values_list("base_commune_id", flat=True)) == bases
    planned = sum(len(day) for u in results["units"] for day in u["tour"]["days"])
    assert planned > 0 and PlannedStop.objects.filter(scenario=scenario).count() == planned
    listing = client.get(reverse("mobile_units"), {"page": 1}).content.decode()
    base_names = set(Commune.objects.filter(code__in=bases).values_list("name_fr", flat=True))
    assert sum(name in listing for name in base_names) >= min(len(base_names), 20)


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")
