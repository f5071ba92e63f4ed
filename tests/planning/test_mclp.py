"""The covering solvers: hand-solved instances, validation, and the heuristic's bound against HiGHS."""

import numpy as np
import pytest

from caravane.planning.solvers.mclp import InvalidInstance, MclpInstance, greedy, random_instance, solve, solve_exact

# Four villages in a row (weights 4, 5, 5, 4). X reaches the two middle ones, A the left pair,
# B the right pair. With two units greedy opens X first (10) and ends at 14; A + B serve all 18.
ROW = dict(weights=[4, 5, 5, 4], reach=[[1, 2], [0, 1], [2, 3]])


def test_greedy_is_trapped_but_swaps_reach_the_hand_optimum():
    inst = MclpInstance(n_units=2, **ROW)
    assert sorted(greedy(inst)) == [0, 1] or sorted(greedy(inst)) == [0, 2]
    sol = solve(inst, time_limit=5)
    assert sorted(sol.chosen) == [1, 2]
    assert sol.covered == pytest.approx(18)
    assert sol.upper_bound >= 18 - 1e-9
    assert sol.status == "optimal"


def test_exact_solver_finds_the_hand_optimum():
    sol = solve_exact(MclpInstance(n_units=2, **ROW), time_limit=30)
    assert sol.status == "optimal"
    assert sorted(sol.chosen) == [1, 2]
    assert sol.covered == pytest.approx(18)


def test_province_limit_forbids_the_best_pair():
    # A and B share a province limited to one unit: the best is X with either of them (14).
    inst = MclpInstance(n_units=2, groups=[0, 1, 1], max_per_group=1, **ROW)
    for sol in (solve(inst, time_limit=5), solve_exact(inst, time_limit=30)):
        assert sol.covered == pytest.approx(14)
        assert 0 in sol.chosen


def test_capacity_limits_what_each_unit_serves():
    # Three villages of 100; A reaches the first two, B the last two; each unit serves 120.
    inst = MclpInstance(weights=[100, 100, 100], reach=[[0, 1], [1, 2]], n_units=2, capacity=120)
    heuristic, exact = solve(inst, time_limit=5), solve_exact(inst, time_limit=30)
    assert heuristic.covered == pytest.approx(240)
    assert exact.covered == pytest.approx(240)
    served = {}
    for i, j, share in heuristic.assignment:
        served[j] = served.get(j, 0) + share * 100
    assert all(v <= 120 + 1e-6 for v in served.values())
    one = MclpInstance(weights=[100, 100, 100], reach=[[0, 1], [1, 2]], n_units=1, capacity=120)
    assert solve(one, time_limit=5).covered == pytest.approx(120)


@pytest.mark.parametrize("change, message", [
    (dict(n_units=4), "only 3 candidate bases"),
    (dict(n_units=0), "at least 1"),
    (dict(capacity=-5), "capacity"),
    (dict(groups=[0, 0, 0], max_per_group=1), "at most 1 fit"),
])
def test_invalid_instances_are_refused_with_a_clear_message(change, message):
    inst = MclpInstance(**{**dict(n_units=2, **ROW), **change})
    with pytest.raises(InvalidInstance, match=message):
        solve(inst)
    with pytest.raises(InvalidInstance, match=message):
        solve_exact(inst)


@pytest.mark.parametrize("seed", range(8))
def test_heuristic_bound_never_below_the_proven_optimum(seed):
    rng = np.random.default_rng(seed)
    capacity = [None, 4000.0, 15000.0][seed % 3]
    inst = random_instance(rng, n_demand=60, n_candidates=25, n_units=int(rng.integers(2, 6)),
                           radius=0.25, capacity=capacity, n_groups=6, max_per_group=int(rng.integers(1, 3)))
    exact = solve_exact(inst, time_limit=60)
    assert exact.status == "optimal"
    ours = solve(inst, time_limit=5)
    assert ours.upper_bound >= exact.covered * (1 - 1e-7) - 1e-6
    assert ours.covered <= exact.covered * (1 + 1e-7) + 1e-6
    assert 0 <= ours.gap <= 1
    assert len(ours.chosen) <= inst.n_units


def test_priorities_send_a_full_unit_to_the_most_underserved_first():
    # One unit of capacity 100 reaches a village of 100 people (priority 0.9) and one of 150 (priority 0.3):
    # it serves the first whole (90) and none of the second; pure coverage would serve 100 of the second (30).
    inst = MclpInstance(weights=[100, 150], reach=[[0, 1]], n_units=1, capacity=100, priority=[0.9, 0.3])
    for sol in (solve(inst, time_limit=5), solve_exact(inst, time_limit=30)):
        assert sol.covered == pytest.approx(90)
        assert [(i, round(share, 6)) for i, _, share in sol.assignment] == [(0, 1.0)]


def test_a_regional_minimum_moves_a_unit_to_a_poorer_region():
    # Region 0 has the three big villages; region 1's candidate (index 3) reaches a small one only.
    # Without a minimum both units go to region 0 (A + B = 18); with one unit owed to region 1: X or A/B + D.
    inst = dict(weights=[4, 5, 5, 4, 2], reach=[[1, 2], [0, 1], [2, 3], [4]], n_units=2)
    free = solve(MclpInstance(**inst), time_limit=5)
    assert free.covered == pytest.approx(18) and 3 not in free.chosen
    fair = MclpInstance(**inst, zones=[0, 0, 0, 1], zone_min=[0, 1])
    ours, exact = solve(fair, time_limit=5), solve_exact(fair, time_limit=30)
    for sol in (ours, exact):
        assert 3 in sol.chosen and sol.covered == pytest.approx(12)
    assert exact.status == "optimal" and ours.upper_bound >= 12 - 1e-9


def test_regional_minimums_that_cannot_be_met_are_refused():
    inst = MclpInstance(weights=[1, 1], reach=[[0], [1]], n_units=1, zones=[0, 1], zone_min=[1, 1])
    with pytest.raises(InvalidInstance, match="regional minimums need 2 units"):
        solve(inst)


@pytest.mark.parametrize("seed", range(6))
def test_bound_stays_valid_with_priorities_and_regional_minimums(seed):
    rng = np.random.default_rng(100 + seed)
    inst = random_instance(rng, n_demand=60, n_candidates=25, n_units=4, radius=0.25,
                           capacity=[None, 6000.0][seed % 2], n_groups=4, max_per_group=2, prioritised=True,
                           n_zones=3)
    exact = solve_exact(inst, time_limit=60)
    assert exact.status == "optimal"
    ours = solve(inst, time_limit=5)
    assert ours.upper_bound >= exact.covered * (1 - 1e-7) - 1e-6
    assert ours.covered <= exact.covered * (1 + 1e-7) + 1e-6
    assert ours.covered >= 0.95 * exact.covered
    for sol in (ours, exact):
        assert all((inst.zones[sol.chosen] == z).sum() >= 1 for z in range(3))


@pytest.mark.parametrize("seed", range(5))
def test_best_bases_matches_brute_force(seed):
    from itertools import combinations

    from caravane.planning.solvers.mclp import _best_bases

    rng = np.random.default_rng(seed)
    m = 9
    inst = MclpInstance(weights=[1.0], reach=[[0]] * m, n_units=4, groups=rng.integers(0, 3, m), max_per_group=2)
    values = rng.normal(1.0, 1.0, m)
    best = max(sum(values[list(c)]) for r in range(5) for c in combinations(range(m), r)
               if all(np.sum(inst.groups[list(c)] == g) <= 2 for g in range(3)))
    chosen = _best_bases(inst, values)
    assert len(chosen) <= 4 and all(np.sum(inst.groups[chosen] == g) <= 2 for g in range(3))
    assert values[chosen].sum() == pytest.approx(best)
