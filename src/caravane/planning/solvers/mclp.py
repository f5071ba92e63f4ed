"""The capacitated maximal covering location problem (MCLP) and its fast heuristic.

Model. Demand point ``i`` has weight ``w_i`` (its underserved population). Candidate base
``j`` reaches the demand points in ``reach[j]``. Open at most ``n_units`` bases, at most
``max_per_group`` in any group (province); each open base serves at most ``capacity``
people, drawn from the points it reaches, and a point's population may be split between
bases. Maximise the population served:

    max  sum_ij w_i x_ij
    s.t. sum_j x_ij <= 1                 every demand point i
         sum_i w_i x_ij <= C y_j         every candidate j (capacity)
         x_ij <= y_j,  sum_j y_j <= N,  sum_{j in g} y_j <= k,  y binary, x in [0, 1]

Heuristic: greedy on marginal served population, then best-improvement swaps until none
helps or time runs out; the final value is the exact maximum flow for the chosen bases.
Upper bound: Lagrangian relaxation of ``sum_j x_ij <= 1`` (multipliers ``lambda_i``); each
relaxed problem splits into one fractional knapsack per base plus the choice of the best
bases under the cardinality and per-group limits (a laminar matroid, so greedy is exact),
and is therefore a valid bound for every ``lambda >= 0``; subgradient steps tighten it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import asdict, dataclass, field

import numpy as np

EPS = 1e-9


class InvalidInstance(ValueError):
    """The instance cannot be solved as given; the message says why."""


@dataclass
class MclpInstance:
    """A covering instance: demand weights, each candidate's reach, and the limits."""

    weights: np.ndarray
    reach: list[np.ndarray]
    n_units: int
    capacity: float | None = None
    groups: np.ndarray | None = None
    max_per_group: int | None = None

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=float)
        self.reach = [np.asarray(r, dtype=np.int64) for r in self.reach]
        if self.groups is not None:
            self.groups = np.asarray(self.groups, dtype=np.int64)

    @property
    def n_demand(self) -> int:
        return len(self.weights)

    @property
    def n_candidates(self) -> int:
        return len(self.reach)

    def validate(self) -> None:
        """Refuse an instance that makes no sense, with a message naming the parameter."""
        if self.n_units < 1:
            raise InvalidInstance("number of units: must be at least 1")
        if self.n_units > self.n_candidates:
            raise InvalidInstance(
                f"number of units: {self.n_units} units but only {self.n_candidates} candidate bases")
        if self.capacity is not None and not self.capacity > 0:
            raise InvalidInstance("capacity per unit: must be positive")
        if (self.weights < 0).any() or not np.isfinite(self.weights).all():
            raise InvalidInstance("demand weights: must be finite and non-negative")
        for r in self.reach:
            if len(r) and (r.min() < 0 or r.max() >= self.n_demand):
                raise InvalidInstance("reach: refers to a demand point that does not exist")
        if self.max_per_group is not None:
            if self.max_per_group < 1:
                raise InvalidInstance("units per province: must be at least 1")
            if self.groups is None or len(self.groups) != self.n_candidates:
                raise InvalidInstance("units per province: every candidate needs a province")
            room = np.minimum(np.bincount(self.groups), self.max_per_group).sum()
            if self.n_units > room:
                raise InvalidInstance(
                    f"number of units: {self.n_units} units but at most {room} fit with "
                    f"{self.max_per_group} per province")

    def to_json(self) -> dict:
        """A JSON-ready dict (for the solver subprocesses)."""
        return {
            "weights": self.weights.tolist(), "reach": [r.tolist() for r in self.reach],
            "n_units": self.n_units, "capacity": self.capacity,
            "groups": None if self.groups is None else self.groups.tolist(),
            "max_per_group": self.max_per_group,
        }

    @classmethod
    def from_json(cls, data: dict) -> "MclpInstance":
        """The inverse of :meth:`to_json`."""
        return cls(weights=data["weights"], reach=data["reach"], n_units=data["n_units"],
                   capacity=data.get("capacity"), groups=data.get("groups"),
                   max_per_group=data.get("max_per_group"))


@dataclass
class MclpSolution:
    """Chosen bases, the population they serve, a proven upper bound and the split of demand."""

    chosen: list[int]
    covered: float
    upper_bound: float
    seconds: float
    method: str
    status: str = "feasible"
    # (demand index, candidate index, share of the demand point's weight served)
    assignment: list[tuple[int, int, float]] = field(default_factory=list)
    iterations: int = 0

    @property
    def gap(self) -> float:
        """Relative distance to the upper bound (0 when proven optimal)."""
        if self.upper_bound <= EPS:
            return 0.0
        return max(0.0, (self.upper_bound - self.covered) / self.upper_bound)

    def to_json(self) -> dict:
        """A JSON-ready dict, the gap included."""
        data = asdict(self)
        data["gap"] = self.gap
        data["assignment"] = [list(a) for a in self.assignment]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "MclpSolution":
        """The inverse of :meth:`to_json`."""
        data = {k: v for k, v in data.items() if k != "gap"}
        data["assignment"] = [tuple(a) for a in data.get("assignment", [])]
        return cls(**data)


class _Padded:
    """Each candidate's reach as a rectangular array (padded with -1) for vectorised work."""

    def __init__(self, inst: MclpInstance):
        degree = np.array([len(r) for r in inst.reach], dtype=np.int64)
        width = max(1, int(degree.max(initial=0)))
        self.index = np.full((inst.n_candidates, width), -1, dtype=np.int64)
        for j, r in enumerate(inst.reach):
            self.index[j, :len(r)] = r
        self.mask = self.index >= 0
        self.safe = np.where(self.mask, self.index, 0)


def _capacity(inst: MclpInstance) -> float:
    return math.inf if inst.capacity is None else float(inst.capacity)


def _gains(inst: MclpInstance, pad: _Padded, residual: np.ndarray) -> np.ndarray:
    """Population each candidate would add if opened now (its reachable residual, capped)."""
    reachable = np.where(pad.mask, residual[pad.safe], 0.0).sum(axis=1)
    return np.minimum(reachable, _capacity(inst))


def _take(inst: MclpInstance, residual: np.ndarray, j: int) -> float:
    """Open ``j``: serve up to capacity from its reach, in proportion to what is left; return the amount."""
    idx = inst.reach[j]
    total = residual[idx].sum()
    amount = min(total, _capacity(inst))
    if total > EPS:
        residual[idx] *= 1.0 - amount / total
    return amount


def _sequential(inst: MclpInstance, chosen: list[int]) -> tuple[float, np.ndarray]:
    """Value and leftover demand when ``chosen`` bases open one after another."""
    residual = inst.weights.copy()
    value = sum(_take(inst, residual, j) for j in chosen)
    return value, residual


def _allowed(inst: MclpInstance, chosen: list[int]) -> np.ndarray:
    """Candidates that may still be opened next to ``chosen`` (not open, province not full)."""
    ok = np.ones(inst.n_candidates, dtype=bool)
    ok[chosen] = False
    if inst.max_per_group is not None and chosen:
        counts = np.bincount(inst.groups[chosen], minlength=int(inst.groups.max()) + 1)
        full = np.flatnonzero(counts >= inst.max_per_group)
        ok &= ~np.isin(inst.groups, full)
    return ok


def greedy(inst: MclpInstance, pad: _Padded | None = None) -> list[int]:
    """Plain greedy: open, one at a time, the base that adds the most served population."""
    return _complete(inst, pad or _Padded(inst), [])


def _trivial_bound(inst: MclpInstance) -> float:
    """All reachable demand, or every unit full: nobody can serve more."""
    reachable = np.unique(np.concatenate(inst.reach)) if inst.reach else np.zeros(0, np.int64)
    return min(float(inst.weights[reachable].sum()), inst.n_units * _capacity(inst))


def _local_search(inst: MclpInstance, pad: _Padded, chosen: list[int], deadline: float) -> tuple[list[int], int]:
    """Best-improvement swaps (close one base, open another) until none helps or time is up."""
    value, _ = _sequential(inst, chosen)
    target = _trivial_bound(inst) * (1 - 1e-9)
    passes = 0
    while time.perf_counter() < deadline and value < target:
        passes += 1
        best = (value + 1e-7 * max(1.0, value), None, None)
        for p in range(len(chosen)):
            rest = chosen[:p] + chosen[p + 1:]
            base, residual = _sequential(inst, rest)
            gains = np.where(_allowed(inst, rest), _gains(inst, pad, residual), -1.0)
            gains[chosen[p]] = -1.0
            j = int(np.argmax(gains))
            if base + gains[j] > best[0]:
                best = (base + gains[j], p, j)
            if time.perf_counter() >= deadline:
                break
        if best[1] is None:
            break
        value, p, j = best
        chosen = chosen[:p] + chosen[p + 1:] + [j]
    return chosen, passes


def exact_assignment(inst: MclpInstance, chosen: list[int]) -> tuple[float, list[tuple[int, int, float]]]:
    """The most population the ``chosen`` bases can serve (a maximum flow) and how it splits."""
    w, cap = inst.weights, _capacity(inst)
    if math.isinf(cap):
        owner = {}
        for j in chosen:
            for i in inst.reach[j].tolist():
                owner.setdefault(i, j)
        return float(w[list(owner)].sum()) if owner else 0.0, [(i, j, 1.0) for i, j in owner.items() if w[i] > 0]
    return _max_flow(inst, chosen)


def _max_flow(inst: MclpInstance, chosen: list[int]) -> tuple[float, list[tuple[int, int, float]]]:
    """Dinic's algorithm on source -> demand (w_i) -> base (unbounded) -> sink (capacity)."""
    demand = sorted({i for j in chosen for i in inst.reach[j].tolist() if inst.weights[i] > 0})
    dpos = {i: 1 + k for k, i in enumerate(demand)}
    fpos = {j: 1 + len(demand) + k for k, j in enumerate(chosen)}
    source, sink = 0, 1 + len(demand) + len(chosen)
    head, cap, adj = [], [], [[] for _ in range(sink + 1)]

    def arc(u, v, c):
        adj[u].append(len(head)); head.append(v); cap.append(c)
        adj[v].append(len(head)); head.append(u); cap.append(0.0)

    for i in demand:
        arc(source, dpos[i], float(inst.weights[i]))
    pair_arcs = []
    for j in chosen:
        for i in inst.reach[j].tolist():
            if i in dpos:
                pair_arcs.append((i, j, len(head)))
                arc(dpos[i], fpos[j], math.inf)
        arc(fpos[j], sink, float(inst.capacity))
    total = 0.0
    while True:
        level = [-1] * (sink + 1)
        level[source] = 0
        queue = deque([source])
        while queue:
            u = queue.popleft()
            for e in adj[u]:
                if cap[e] > EPS and level[head[e]] < 0:
                    level[head[e]] = level[u] + 1
                    queue.append(head[e])
        if level[sink] < 0:
            break
        it = [0] * (sink + 1)

        def push(u, f):
            if u == sink:
                return f
            while it[u] < len(adj[u]):
                e = adj[u][it[u]]
                v = head[e]
                if cap[e] > EPS and level[v] == level[u] + 1:
                    got = push(v, min(f, cap[e]))
                    if got > EPS:
                        cap[e] -= got
                        cap[e ^ 1] += got
                        return got
                it[u] += 1
            return 0.0

        while (f := push(source, math.inf)) > EPS:
            total += f
    split = [(i, j, cap[e ^ 1] / inst.weights[i]) for i, j, e in pair_arcs if cap[e ^ 1] > EPS]
    return total, split


def lagrangian_bound(inst: MclpInstance, pad: _Padded, lower: float, *, iterations: int = 3000,
                     deadline: float | None = None, tolerance: float = 1e-3) -> tuple[float, list[int]]:
    """An upper bound on the optimum by subgradient optimisation of the Lagrangian dual.

    Also returns the best base set met on the way (the relaxed problems' choices, completed
    greedily), a good start for local search.
    """
    w, cap = inst.weights, _capacity(inst)
    wpad = np.where(pad.mask, w[pad.safe], 0.0)
    lam = np.zeros_like(w)
    best = _trivial_bound(inst)
    theta, stale = 2.0, 0
    harvest, harvest_value = [], -1.0
    for step_number in range(iterations):
        profit = np.where(pad.mask, (w - lam)[pad.safe], 0.0)
        positive = profit > EPS
        if math.isinf(cap):
            take = positive.astype(float)
        else:
            ratio = np.where(positive, profit / np.maximum(wpad, EPS), -1.0)
            order = np.argsort(-ratio, axis=1, kind="stable")
            sw = np.take_along_axis(np.where(positive, wpad, 0.0), order, axis=1)
            before = np.cumsum(sw, axis=1) - sw
            frac = np.clip((cap - before) / np.maximum(sw, EPS), 0.0, 1.0)
            frac = np.where(sw > EPS, frac, 0.0)
            take = np.zeros_like(frac)
            np.put_along_axis(take, order, frac, axis=1)
        values = (profit * take).sum(axis=1)
        chosen = _best_bases(inst, values)
        bound = float(lam.sum() + values[chosen].sum())
        if step_number % 5 == 4:
            candidate = _complete(inst, pad, chosen)
            value = _sequential(inst, candidate)[0]
            if value > harvest_value:
                harvest, harvest_value = candidate, value
        if bound < best - 1e-9:
            best, stale = bound, 0
        else:
            stale += 1
            if stale >= 25:
                theta, stale = theta / 2, 0
        served = np.bincount(pad.safe[chosen][pad.mask[chosen]], weights=take[chosen][pad.mask[chosen]],
                             minlength=len(w))
        sub = 1.0 - served
        norm = float(sub @ sub)
        # Stop once the bound proves the incumbent within ``tolerance`` (relative).
        if norm < EPS or best - lower <= tolerance * max(1.0, best) or theta < 1e-5:
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
        step = theta * (bound - lower) / norm
        lam = np.clip(lam - step * sub, 0.0, w)
    return max(best, lower), harvest


def _complete(inst: MclpInstance, pad: _Padded, chosen: list[int]) -> list[int]:
    """``chosen`` topped up greedily to ``n_units`` bases."""
    chosen = list(chosen)
    residual = _sequential(inst, chosen)[1]
    while len(chosen) < inst.n_units:
        gains = np.where(_allowed(inst, chosen), _gains(inst, pad, residual), -1.0)
        j = int(np.argmax(gains))
        if gains[j] < 0:
            break
        chosen.append(j)
        _take(inst, residual, j)
    return chosen


def _best_bases(inst: MclpInstance, values: np.ndarray) -> list[int]:
    """The best set of at most ``n_units`` bases for per-base values, honouring the per-group limit.

    Groups and the overall count form a laminar matroid: the optimum is the ``n_units`` best
    among the bases that rank in their group's ``max_per_group`` best.
    """
    eligible = values > 0
    if inst.max_per_group is not None:
        order = np.lexsort((-values, inst.groups))
        sorted_groups = inst.groups[order]
        starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        in_group_top = np.zeros(len(values), dtype=bool)
        in_group_top[order] = rank < inst.max_per_group
        eligible &= in_group_top
    candidates = np.flatnonzero(eligible)
    if len(candidates) > inst.n_units:
        candidates = candidates[np.argpartition(-values[candidates], inst.n_units - 1)[:inst.n_units]]
    return candidates.tolist()


def solve(inst: MclpInstance, *, time_limit: float = 30.0, local_search: bool = True,
          progress=None) -> MclpSolution:
    """Greedy + swap local search, with a Lagrangian upper bound; ``progress(fraction, text)`` is told."""
    inst.validate()
    start = time.perf_counter()
    report = progress or (lambda fraction, text: None)
    pad = _Padded(inst)
    report(0.05, "greedy")
    chosen = greedy(inst, pad)
    passes = 0
    if local_search:
        report(0.3, "local search")
        chosen, passes = _local_search(inst, pad, chosen, start + 0.4 * time_limit)
    covered, split = exact_assignment(inst, chosen)
    report(0.5, "upper bound")
    bound, harvest = lagrangian_bound(inst, pad, covered, deadline=start + 0.7 * time_limit)
    if local_search and harvest and sorted(harvest) != sorted(chosen) and bound - covered > 1e-6 * bound:
        # A second descent from the Lagrangian's own choice of bases often escapes the first one's optimum.
        report(0.75, "local search")
        other, more = _local_search(inst, pad, harvest, start + 0.95 * time_limit)
        passes += more
        value, other_split = exact_assignment(inst, other)
        if value > covered:
            chosen, covered, split = other, value, other_split
    report(1.0, "done")
    return MclpSolution(chosen=chosen, covered=covered, upper_bound=bound, assignment=split,
                        seconds=time.perf_counter() - start, method="greedy+swap" if local_search else "greedy",
                        status="optimal" if bound - covered <= 1e-6 * max(1.0, bound) else "feasible",
                        iterations=passes)


def solve_exact(inst: MclpInstance, *, time_limit: float = 60.0) -> MclpSolution:
    """Solve with HiGHS in a subprocess (it cannot share a process with OR-Tools)."""
    from caravane.planning.solvers import run_in_subprocess

    inst.validate()
    answer = run_in_subprocess("highs_mclp", {"instance": inst.to_json(), "time_limit": time_limit},
                               timeout=time_limit + 120)
    return MclpSolution.from_json(answer)


def random_instance(rng: np.random.Generator, *, n_demand: int, n_candidates: int, n_units: int,
                    radius: float = 0.15, capacity: float | None = None, n_groups: int = 0,
                    max_per_group: int | None = None) -> MclpInstance:
    """A random instance in the unit square (for tests and benchmarks)."""
    points = rng.random((n_demand, 2))
    sites = points[rng.choice(n_demand, n_candidates, replace=False)] if n_candidates <= n_demand \
        else rng.random((n_candidates, 2))
    weights = np.round(rng.lognormal(7.0, 1.0, n_demand))
    dist = np.sqrt(((sites[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    reach = [np.flatnonzero(row <= radius) for row in dist]
    groups = rng.integers(0, n_groups, n_candidates) if n_groups else None
    return MclpInstance(weights=weights, reach=reach, n_units=n_units, capacity=capacity, groups=groups,
                        max_per_group=max_per_group if n_groups else None)
