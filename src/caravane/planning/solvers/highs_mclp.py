"""The MCLP solved exactly with HiGHS, in its own process (``python -m``; JSON in, JSON out).

The model is the one documented in :mod:`.mclp`. Without a capacity the compact classic
formulation is used (``z_i <= sum_{j reaches i} y_j``).
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from caravane.planning.solvers import serve_stdin
from caravane.planning.solvers.mclp import MclpInstance, MclpSolution


def solve(inst: MclpInstance, *, time_limit: float = 60.0) -> MclpSolution:
    """Solve ``inst`` with HiGHS within ``time_limit`` seconds; the bound is HiGHS's dual bound."""
    inst.validate()
    start = time.perf_counter()
    m, n, w, worth = inst.n_candidates, inst.n_demand, inst.weights, inst.value
    rows: list[tuple[list[int], list[float], float, float]] = []
    cost, upper = [0.0] * m, [1.0] * m
    pairs: list[tuple[int, int]] = []
    if inst.capacity is None:
        cost += worth.tolist()
        upper += [1.0] * n
        covering: list[list[int]] = [[] for _ in range(n)]
        for j, r in enumerate(inst.reach):
            for i in r.tolist():
                covering[i].append(j)
        for i in range(n):
            rows.append(([m + i] + covering[i], [1.0] + [-1.0] * len(covering[i]), -np.inf, 0.0))
    else:
        per_demand: list[list[int]] = [[] for _ in range(n)]
        for j, r in enumerate(inst.reach):
            cols, vals = [j], [-float(inst.capacity)]
            for i in r.tolist():
                if w[i] <= 0:
                    continue
                col = m + len(pairs)
                pairs.append((i, j))
                cost.append(float(worth[i]))
                upper.append(1.0)
                per_demand[i].append(col)
                cols.append(col)
                vals.append(float(w[i]))
                rows.append(([col, j], [1.0, -1.0], -np.inf, 0.0))
            rows.append((cols, vals, -np.inf, 0.0))
        for cols in per_demand:
            if cols:
                rows.append((cols, [1.0] * len(cols), -np.inf, 1.0))
    rows.append((list(range(m)), [1.0] * m, -np.inf, float(inst.n_units)))
    if inst.max_per_group is not None:
        for g in np.unique(inst.groups):
            members = np.flatnonzero(inst.groups == g).tolist()
            rows.append((members, [1.0] * len(members), -np.inf, float(inst.max_per_group)))
    if inst.zones is not None:
        for z in np.flatnonzero(inst.zone_min):
            members = np.flatnonzero(inst.zones == z).tolist()
            rows.append((members, [1.0] * len(members), float(inst.zone_min[z]), np.inf))

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), len(rows)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.array(cost)
    lp.col_lower_ = np.zeros(len(cost))
    lp.col_upper_ = np.array(upper)
    lp.row_lower_ = np.array([r[2] for r in rows])
    lp.row_upper_ = np.array([r[3] for r in rows])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(cost), len(rows)
    lp.a_matrix_.start_ = np.cumsum([0] + [len(r[0]) for r in rows]).astype(np.int32)
    lp.a_matrix_.index_ = np.array([c for r in rows for c in r[0]], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([v for r in rows for v in r[1]])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [highspy.HighsVarType.kContinuous] * (len(cost) - m)

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", 1e-7)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    values = np.array(h.getSolution().col_value) if info.primal_solution_status else np.zeros(len(cost))
    chosen = [j for j in range(m) if values[j] > 0.5]
    if inst.capacity is None:
        covered = float(worth[values[m:] > 0.5].sum()) if len(values) > m else 0.0
        assignment = []
    else:
        assignment = [(i, j, float(values[m + k])) for k, (i, j) in enumerate(pairs) if values[m + k] > 1e-9]
        covered = float(sum(worth[i] * x for i, _, x in assignment))
    optimal = status == highspy.HighsModelStatus.kOptimal
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else float(worth.sum())
    return MclpSolution(chosen=chosen, covered=covered, upper_bound=max(bound, covered),
                        seconds=time.perf_counter() - start, method="highs",
                        status="optimal" if optimal else h.modelStatusToString(status).lower(),
                        assignment=assignment)


def main(payload: dict) -> dict:
    """Subprocess entry: ``{"instance": ..., "time_limit": s}`` -> a solution dict."""
    return solve(MclpInstance.from_json(payload["instance"]), time_limit=payload.get("time_limit", 60.0)).to_json()


if __name__ == "__main__":
    serve_stdin(main)
