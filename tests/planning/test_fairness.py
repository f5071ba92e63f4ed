"""Fairness in the planner: figures on a hand-checkable instance, regional minimums, the pure-coverage comparison."""

import numpy as np
import pytest

from caravane.planning.analysis import Analysis, CommuneTable
from caravane.planning.geodesy import Places
from caravane.planning.models import Facility, FacilityImport
from caravane.planning.pipeline import ParameterError, Parameters, coverage_figures, run_plan
from caravane.planning.solvers.mclp import MclpSolution


def _analysis() -> Analysis:
    # A (R1, 1,000 people, index 90), B (R1, 3,000, index 40), C (R2, 2,000, index 70) are beyond reach of care;
    # D (R2, 500 people, index 10) is near care: not underserved.
    codes = np.array(["A", "B", "C", "D"], dtype=object)
    table = CommuneTable(codes=codes, names=list(codes), province=np.array(["P1", "P1", "P2", "P2"], dtype=object),
                         region=np.array(["R1", "R1", "R2", "R2"], dtype=object),
                         population=np.array([1000.0, 3000.0, 2000.0, 500.0]), rural=np.ones(4, dtype=bool),
                         places=Places(codes, np.zeros(4), np.zeros(4)), indicators=[{}] * 4)
    return Analysis(communes=table, nearest_km={}, care_km=np.array([40.0, 25.0, 30.0, 2.0]), thresholds_km=[10.0],
                    underserved_km=10.0, components={}, index=np.array([90.0, 40.0, 70.0, 10.0]))


def test_coverage_figures_by_hand():
    analysis = _analysis()
    demand = np.array([0, 1, 2])  # A, B, C
    candidates = np.array([1, 2])  # bases may be at B or C
    # One unit at B serves all of B and half of C.
    solution = MclpSolution(chosen=[0], covered=0.0, upper_bound=0.0, seconds=0.0, method="test",
                            assignment=[(1, 0, 1.0), (2, 0, 0.5)])
    figures = coverage_figures(analysis, demand, candidates, solution)
    assert figures["people"] == 4000 and figures["underserved"] == 6000
    assert figures["share_pct"] == pytest.approx(66.67)
    regions = {r["region"]: r for r in figures["regions"]}
    assert regions["R1"] == {"region": "R1", "underserved_population": 4000, "served": 3000, "coverage_pct": 75.0,
                                  "units": 1, "communes_reached": 1, "top_decile_communes": 1,
                                  "top_decile_reached": 0}
    assert regions["R2"]["coverage_pct"] == 50.0 and regions["R2"]["units"] == 0
    # Top decile of 3 underserved communes: one (A, index 90), not reached.
    assert (figures["top_decile_communes"], figures["top_decile_reached"], figures["top_decile_reached_pct"]) == \
        (1, 0, 0.0)
    assert figures["min_region_coverage_pct"] == 50.0
    assert (figures["regions_underserved"], figures["regions_reached"]) == (2, 2)


@pytest.fixture
def two_regions(village_row, commune_factory):
    """The village row (region 98, 14,000 people) with a hospital at its first village, and one far commune of
    800 people alone in region 97."""
    batch = FacilityImport.objects.create(source="s", file_format="csv", accepted=1)
    Facility.objects.create(source_import=batch, name="H", kind="hospital", latitude=31.0, longitude=-8.0)
    far = commune_factory(region_code="97", province_code="97.001", name="Far", lat=33.0, lon=-5.0, population=800)
    return village_row, far


SMALL = {"n_units": 2, "capacity": None, "reach_km": 45, "max_per_province": 1, "tours": False, "time_limit": 3}


def test_a_regional_minimum_sends_a_unit_to_the_small_region_and_the_comparison_shows_the_cost(two_regions):
    villages, far = two_regions
    fair = run_plan(Parameters.from_dict({**SMALL, "regional_minimum": "one"}))["results"]
    assert far.code in {u["base"] for u in fair["units"]}
    regions = {r["region"]: r for r in fair["regions"]}
    assert regions["97"]["served"] == 800 and regions["97"]["units"] == 1
    pure = fair["pure_coverage"]
    assert far.code not in pure["bases"]
    assert {r["region"]: r["served"] for r in pure["regions"]}["97"] == 0
    assert pure["summary"]["covered"] > fair["summary"]["covered"]
    assert (fair["summary"]["regions_reached"], pure["summary"]["regions_reached"]) == (2, 1)
    assert fair["summary"]["min_region_coverage_pct"] > pure["summary"]["min_region_coverage_pct"] == 0.0


def test_without_fairness_the_run_is_its_own_pure_coverage_optimum(two_regions):
    results = run_plan(Parameters.from_dict({**SMALL, "weight_by_underservice": False, "max_per_province": None,
                                             "regional_minimum": "none"}))["results"]
    assert sorted(results["pure_coverage"]["bases"]) == sorted(u["base"] for u in results["units"])
    assert results["pure_coverage"]["summary"]["covered"] == results["summary"]["covered"]


def test_the_per_province_limit_holds(two_regions):
    results = run_plan(Parameters.from_dict({**SMALL, "n_units": 3, "regional_minimum": "none"}))["results"]
    provinces = [u["province"] for u in results["units"]]
    assert sorted(provinces) == ["97.001", "98.001", "98.002"]


def test_too_few_units_for_the_regional_minimums_is_refused_by_name(two_regions):
    with pytest.raises(ParameterError, match="regional_minimum: 2 regions"):
        run_plan(Parameters.from_dict({**SMALL, "n_units": 1, "regional_minimum": "one"}))
