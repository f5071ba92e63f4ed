"""Facility import, parameter validation and the access analysis on synthetic communes."""

import json

import pytest

from caravane.planning.actions import do_import_facilities
from caravane.planning.facilities import ImportRefused, parse_facilities
from caravane.planning.models import Facility
from caravane.planning.pipeline import ParameterError, Parameters, run_plan

PLAIN = "name,kind,lon,lat\nHôpital A,hospital,-7.5,31.5\nFar away,clinic,3.05,36.75\nBroken,clinic,abc,31\n" \
        "Pole,hospital,-7.5,95\nNo kind,,-7.4,31.4\nSpa,spa,-7.4,31.4\n"


def test_plain_csv_keeps_good_rows_and_says_why_others_are_rejected():
    parsed = parse_facilities(PLAIN)
    assert [r["name"] for r in parsed.rows] == ["Hôpital A"]
    reasons = {r["row"]: r["reason"] for r in parsed.rejected}
    assert "Outside Morocco" in reasons[3]
    assert "not numbers" in reasons[4]
    assert "out of range" in reasons[5]
    assert "No facility kind" in reasons[6]
    assert "Unknown facility kind" in reasons[7]


def test_missing_column_refuses_the_file():
    with pytest.raises(ImportRefused, match="Missing column.*lat"):
        parse_facilities("name,kind,lon\nA,hospital,-7.5\n")


def test_geojson_layout():
    data = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "C", "amenity": "clinic", "osm_id": 7},
         "geometry": {"type": "Point", "coordinates": [-6.8, 34.0]}},
        {"type": "Feature", "properties": {"name": "Madrid", "amenity": "hospital"},
         "geometry": {"type": "Point", "coordinates": [-3.7, 40.4]}}]}
    parsed = parse_facilities(json.dumps(data), filename="f.geojson")
    assert [(r["name"], r["kind"], r["external_id"]) for r in parsed.rows] == [("C", "clinic", "7")]
    assert "Outside Morocco" in parsed.rejected[0]["reason"]


def test_import_replaces_the_previous_list_and_is_audited(coordinator, commune_factory):
    from caravane.audit.models import AuditEvent

    commune_factory(lat=31.5, lon=-7.5)
    do_import_facilities(actor=coordinator, source="test", content=PLAIN, filename="a.csv")
    batch = do_import_facilities(actor=coordinator, source="test", content=PLAIN, filename="a.csv")
    assert Facility.objects.count() == 1 and batch.accepted == 1 and len(batch.rejected) == 5
    assert AuditEvent.objects.filter(action="planning.import_facilities").count() == 2


def test_point_outside_the_communes_but_inside_the_box_is_rejected(coordinator, commune_factory):
    commune_factory(lat=31.5, lon=-7.5)
    batch = do_import_facilities(actor=coordinator, source="t", content="name,kind,lon,lat\nTlemcen,clinic,-1.32,34.88\n")
    assert batch.accepted == 0 and "Outside Morocco" in batch.rejected[0]["reason"]


@pytest.mark.parametrize("data, name", [
    ({"n_units": 0}, "n_units"), ({"capacity": -1}, "capacity"), ({"care_kinds": ["spa"]}, "care_kinds"),
    ({"start_date": "tomorrow"}, "start_date"), ({"colour": "red"}, "colour"), ({"solver": "magic"}, "solver"),
])
def test_bad_parameters_are_refused_naming_the_field(data, name):
    with pytest.raises(ParameterError, match=name):
        Parameters.from_dict(data)


def test_run_plan_places_units_on_a_hand_checked_row(village_row):
    from caravane.planning.models import FacilityImport

    villages = village_row
    batch = FacilityImport.objects.create(source="s", file_format="csv", accepted=1)
    Facility.objects.create(source_import=batch, name="H", kind="hospital", latitude=31.0, longitude=-8.0)
    params = Parameters.from_dict({"regions": ["98"], "n_units": 1, "capacity": None, "reach_km": 45, "underserved_km": 10,
                                   "max_per_province": 1, "tours_time_limit": 0.5, "horizon_weeks": 1})
    out = run_plan(params)
    res = out["results"]
    # V0 hosts the hospital; V1..V4 (2000+3000+4000+5000) are beyond 10 km. A base reaches its neighbours
    # only (28.6 km apart x 1.4 = 40 km <= 45): V3 covers V2, V3, V4 = 12,000, the hand optimum.
    assert res["summary"]["underserved_population"] == 14000
    assert res["units"][0]["base"] == villages[3].code
    assert res["summary"]["covered"] == 12000
    assert res["summary"]["upper_bound"] >= res["summary"]["objective_value"] == 12000  # index 100: weight 1
    rows = {r["code"]: r for r in res["communes"]}
    assert rows[villages[0].code]["care_km"] == 0
    assert rows[villages[1].code]["nearest_hospital_km"] == pytest.approx(1.4 * 28.6, rel=0.02)
    # No census indicators here: the index is the access component alone (capped at 30 km).
    assert rows[villages[0].code]["index"] == 0
    assert rows[villages[1].code]["access_component"] == 1 and rows[villages[1].code]["index"] == 100
    visited = {code for day in res["units"][0]["tour"]["days"] for code in day}
    assert visited == {villages[2].code, villages[3].code, villages[4].code}
    assert set(out["timings"]) >= {"analysis", "placement", "tours", "total"}


def test_more_units_than_candidates_is_refused(village_row):
    with pytest.raises(ParameterError, match="n_units: 9 units but only 5 candidate"):
        run_plan(Parameters.from_dict({"regions": ["98"], "n_units": 9, "tours": False}))


def test_plan_command_writes_csv_and_geojson(village_row, tmp_path):
    import io

    from django.core.management import call_command

    villages = village_row
    facilities = tmp_path / "f.csv"
    facilities.write_text("name,kind,lon,lat\nH,hospital,-8.0,31.0\nAlger,hospital,3.05,36.75\n")
    out = io.StringIO()
    call_command("plan", "--regions", "98", "--facilities", f"test={facilities}", "--units", "1", "--capacity", "0",
                 "--reach-km", "45", "--max-per-province", "0", "--weeks", "1", "--out", str(tmp_path / "o"),
                 "--save", "cli run", stdout=out)
    text = out.getvalue()
    assert "1 facilities kept, 1 rejected" in text and "Outside Morocco" in text
    assert set(p.name for p in (tmp_path / "o").iterdir()) == {
        "communes.csv", "provinces.csv", "units.csv", "calendar.csv", "plan.geojson"}
    plan = json.loads((tmp_path / "o" / "plan.geojson").read_text())
    bases = [f for f in plan["features"] if f["properties"]["layer"] == "base"]
    assert [b["properties"]["commune"] for b in bases] == [villages[3].code]
    calendar = (tmp_path / "o" / "calendar.csv").read_text().splitlines()
    assert calendar[0] == "unit,base,date,order,commune,commune_name" and len(calendar) > 1


def test_plan_command_refuses_too_many_units(village_row, tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="n_units"):
        call_command("plan", "--regions", "98", "--units", "9", "--no-tours", "--out", str(tmp_path))


def test_travel_matrix_replaces_the_estimate_where_it_knows_the_road():
    import numpy as np

    from caravane.planning.geodesy import Places, RoadDistance, TravelMatrix

    places = Places(np.array(["A", "B"], dtype=object), np.array([31.0, 31.0]), np.array([-8.0, -7.7]))
    known = TravelMatrix(known={("A", "B"): 99.0}).matrix(places, places)
    estimate = RoadDistance().matrix(places, places)
    assert known[0, 1] == 99.0
    assert known[1, 0] == estimate[1, 0] == pytest.approx(1.4 * 28.6, rel=0.02)
