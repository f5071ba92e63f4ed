"""The capacitated maximal covering location problem (MCLP) with priorities and regional minimums, and its heuristic.

Model. Demand point ``i`` has ``w_i`` people (its underserved population) and a priority
``p_i >= 0`` per person (1 for pure coverage; the planner uses the underservice index / 100).
Candidate base ``j`` reaches the demand points in ``reach[j]``. Open at most ``n_units`` bases,
at most ``max_per_group`` in any group (province) and at least ``zone_min[z]`` among the
candidates of zone ``z`` (a region's candidates that reach its own demand); each open base
serves at most ``capacity`` people, drawn from the points it reaches, and a point's population
may be split between bases. Maximise the priority-weighted population served:

    max  sum_ij p_i w_i x_ij
    s.t. sum_j x_ij <= 1                 every demand point i
         sum_i w_i x_ij <= C y_j         every candidate j (capacity)
         x_ij <= y_j,  sum_j y_j <= N,  sum_{j in g} y_j <= k,  sum_{j in z} y_j >= m_z,
         y binary, x in [0, 1]

"Optimal" means optimal for this model: the figures it leaves out (roads, staff, seasons) are
not in it. Heuristic: greedy on marginal weighted service (a unit serves the highest priorities
first), then best-improvement swaps until none helps or time runs out; both keep the regional
minimums. The final value is exact for the chosen bases: with one priority per demand point the
people a set of bases can serve form a polymatroid, so serving points in decreasing priority,
each as much as a maximum flow allows, is optimal. Upper bound: Lagrangian relaxation of
``sum_j x_ij <= 1`` (multipliers ``lambda_i``) and of the regional minimums (``mu_z``); each
relaxed problem splits into one fractional knapsack per base plus the choice of the best bases
under the cardinality and per-group limits (a laminar matroid, so greedy is exact), and is
therefore a valid bound for every ``lambda, mu >= 0``; subgradient steps tighten it.
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
    """A covering instance: demand people and priorities, each candidate's reach, and the limits."""

    weights: np.ndarray
    reach: list[np.ndarray]
    n_units: int
    capacity: float | None = None
    groups: np.ndarray | None = None
    max_per_group: int | None = None
    priority: np.ndarray | None = None
    zones: np.ndarray | None = None
    zone_min: np.ndarray | None = None

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=float)
        self.reach = [np.asarray(r, dtype=np.int64) for r in self.reach]
        self.priority = np.ones(len(self.weights)) if self.priority is None else np.asarray(self.priority, float)
        if self.groups is not None:
            self.groups = np.asarray(self.groups, dtype=np.int64)
        if self.zones is not None:
            self.zones = np.asarray(self.zones, dtype=np.int64)
            self.zone_min = np.asarray(self.zone_min, dtype=np.int64)

    @property
    def n_demand(self) -> int:
        return len(self.weights)

    @property
    def n_candidates(self) -> int:
        return len(self.reach)

    @property
    def value(self) -> np.ndarray:
        """What serving all of each demand point is worth (priority x people)."""
        return self.priority * self.weights

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
        if len(self.priority) != self.n_demand or (self.priority < 0).any() or not np.isfinite(self.priority).all():
            raise InvalidInstance("priorities: one finite, non-negative priority per demand point")
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
        if self.zones is not None:
            self._validate_zones()

    def _validate_zones(self) -> None:
        if len(self.zones) != self.n_candidates or self.zones.max(initial=-1) >= len(self.zone_min):
            raise InvalidInstance("units per region: every candidate needs a region (or -1)")
        if (self.zone_min < 0).any() or self.zone_min.sum() > self.n_units:
            raise InvalidInstance(
                f"units per region: the regional minimums need {self.zone_min.sum()} units, "
                f"more than the {self.n_units} available")
        for z in np.flatnonzero(self.zone_min):
            members = self.zones == z
            room = members.sum() if self.max_per_group is None else \
                np.minimum(np.bincount(self.groups[members]), self.max_per_group).sum()
            if room < self.zone_min[z]:
                raise InvalidInstance(f"units per region: region {z} has room for only {room} units")

    def to_json(self) -> dict:
        """A JSON-ready dict (for the solver subprocesses)."""
        return {
            "weights": self.weights.tolist(), "reach": [r.tolist() for r in self.reach],
            "n_units": self.n_units, "capacity": self.capacity,
            "groups": None if self.groups is None else self.groups.tolist(),
            "max_per_group": self.max_per_group, "priority": self.priority.tolist(),
            "zones": None if self.zones is None else self.zones.tolist(),
            "zone_min": None if self.zones is None else self.zone_min.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> "MclpInstance":
        """The inverse of :meth:`to_json`."""
        return cls(weights=data["weights"], reach=data["reach"], n_units=data["n_units"],
                   capacity=data.get("capacity"), groups=data.get("groups"),
                   max_per_group=data.get("max_per_group"), priority=data.get("priority"),
                   zones=data.get("zones"), zone_min=data.get("zone_min"))


@dataclass
class MclpSolution:
    """Chosen bases, the weighted service they give, a proven upper bound and the split of demand."""

    chosen: list[int]
    covered: float
    upper_bound: float
    seconds: float
    method: str
    status: str = "feasible"
    # (demand index, candidate index, share of the demand point's people served)
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
    """Each candidate's reach as a rectangular array (padded with -1), highest priority first, for vectorised work."""

    def __init__(self, inst: MclpInstance):
        degree = np.array([len(r) for r in inst.reach], dtype=np.int64)
        width = max(1, int(degree.max(initial=0)))
        self.index = np.full((inst.n_candidates, width), -1, dtype=np.int64)
        for j, r in enumerate(inst.reach):
            self.index[j, :len(r)] = r[np.argsort(-inst.priority[r], kind="stable")]
        self.mask = self.index >= 0
        self.safe = np.where(self.mask, self.index, 0)
        self.priority = np.where(self.mask, inst.priority[self.safe], 0.0)


def _capacity(inst: MclpInstance) -> float:
    return math.inf if inst.capacity is None else float(inst.capacity)


def _served(inst: MclpInstance, people: np.ndarray) -> np.ndarray:
    """People a unit serves from each padded slot: highest priority first, up to its capacity."""
    before = np.cumsum(people, axis=-1) - people
    return np.clip(_capacity(inst) - before, 0.0, people)


def _gains(inst: MclpInstance, pad: _Padded, residual: np.ndarray) -> np.ndarray:
    """Weighted service each candidate would add if opened now (its reachable residual, capped)."""
    people = np.where(pad.mask, residual[pad.safe], 0.0)
    return (pad.priority * _served(inst, people)).sum(axis=1)


def _take(inst: MclpInstance, pad: _Padded, residual: np.ndarray, j: int) -> float:
    """Open ``j``: serve up to capacity from its reach, highest priority first; return the weighted amount."""
    idx = pad.index[j][pad.mask[j]]
    served = _served(inst, residual[idx])
    residual[idx] -= served
    return float(inst.priority[idx] @ served)


def _sequential(inst: MclpInstance, pad: _Padded, chosen: list[int]) -> tuple[float, np.ndarray]:
    """Value and leftover demand when ``chosen`` bases open one after another."""
    residual = inst.weights.copy()
    value = sum(_take(inst, pad, residual, j) for j in chosen)
    return value, residual


def _allowed(inst: MclpInstance, chosen: list[int]) -> np.ndarray:
    """Candidates that may still be opened next to ``chosen`` (not open, province not full, regions' minimums kept)."""
    ok = np.ones(inst.n_candidates, dtype=bool)
    ok[chosen] = False
    if inst.max_per_group is not None and chosen:
        counts = np.bincount(inst.groups[chosen], minlength=int(inst.groups.max()) + 1)
        full = np.flatnonzero(counts >= inst.max_per_group)
        ok &= ~np.isin(inst.groups, full)
    if inst.zones is not None:
        inside = inst.zones[chosen]
        have = np.bincount(inside[inside >= 0], minlength=len(inst.zone_min))
        short = np.maximum(inst.zone_min - have, 0)
        if short.sum() and short.sum() >= inst.n_units - len(chosen):
            ok &= np.isin(inst.zones, np.flatnonzero(short))
    return ok


def greedy(inst: MclpInstance, pad: _Padded | None = None) -> list[int]:
    """Plain greedy: open, one at a time, the allowed base that adds the most weighted service."""
    return _complete(inst, pad or _Padded(inst), [])


def _trivial_bound(inst: MclpInstance) -> float:
    """All reachable demand, or every unit full of the highest priorities: nobody can serve more."""
    reachable = np.unique(np.concatenate(inst.reach)) if inst.reach else np.zeros(0, np.int64)
    order = reachable[np.argsort(-inst.priority[reachable], kind="stable")]
    people = inst.weights[order]
    room = inst.n_units * _capacity(inst)
    return float(inst.priority[order] @ np.clip(room - (np.cumsum(people) - people), 0.0, people))


def _local_search(inst: MclpInstance, pad: _Padded, chosen: list[int], deadline: float) -> tuple[list[int], int]:
    """Best-improvement swaps (close one base, open another) until none helps or time is up."""
    value, _ = _sequential(inst, pad, chosen)
    target = _trivial_bound(inst) * (1 - 1e-9)
    passes = 0
    while time.perf_counter() < deadline and value < target:
        passes += 1
        best = (value + 1e-7 * max(1.0, value), None, None)
        for p in range(len(chosen)):
            rest = chosen[:p] + chosen[p + 1:]
            base, residual = _sequential(inst, pad, rest)
            gains = np.where(_allowed(inst, rest), _gains(inst, pad, residual), -1.0)
            gains[chosen[p]] = -1.0
            j = int(np.argmax(gains))
            if gains[j] >= 0 and base + gains[j] > best[0]:
                best = (base + gains[j], p, j)
            if time.perf_counter() >= deadline:
                break
        if best[1] is None:
            break
        value, p, j = best
        chosen = chosen[:p] + chosen[p + 1:] + [j]
    return chosen, passes


def exact_assignment(inst: MclpInstance, chosen: list[int]) -> tuple[float, list[tuple[int, int, float]]]:
    """The most weighted service the ``chosen`` bases can give and how it splits (see the module's docstring)."""
    w, cap = inst.weights, _capacity(inst)
    if math.isinf(cap):
        owner = {}
        for j in chosen:
            for i in inst.reach[j].tolist():
                owner.setdefault(i, j)
        value = float(inst.value[list(owner)].sum()) if owner else 0.0
        return value, [(i, j, 1.0) for i, j in owner.items() if w[i] > 0]
    return _priority_flow(inst, chosen)


def _priority_flow(inst: MclpInstance, chosen: list[int]) -> tuple[float, list[tuple[int, int, float]]]:
    """Dinic's algorithm on source -> demand (w_i) -> base (unbounded) -> sink (capacity), one priority at a time.

    Demand points enter in decreasing priority, each with as much flow as the network still lets
    through (the polymatroid greedy); flow already routed may be rerouted, never reduced.
    """
    demand = sorted({i for j in chosen for i in inst.reach[j].tolist() if inst.weights[i] > 0})
    dpos = {i: 1 + k for k, i in enumerate(demand)}
    fpos = {j: 1 + len(demand) + k for k, j in enumerate(chosen)}
    source, sink = 0, 1 + len(demand) + len(chosen)
    head, cap, adj = [], [], [[] for _ in range(sink + 1)]

    def arc(u, v, c):
        adj[u].append(len(head)); head.append(v); cap.append(c)
        adj[v].append(len(head)); head.append(u); cap.append(0.0)
        return len(head) - 2

    entry = {i: arc(source, dpos[i], 0.0) for i in demand}
    pair_arcs = []
    for j in chosen:
        for i in inst.reach[j].tolist():
            if i in dpos:
                pair_arcs.append((i, j, arc(dpos[i], fpos[j], math.inf)))
        arc(fpos[j], sink, float(inst.capacity))
    levels = sorted({float(inst.priority[i]) for i in demand}, reverse=True)
    for level_priority in levels:
        for i in demand:
            if inst.priority[i] == level_priority:
                cap[entry[i]] = float(inst.weights[i])
        _dinic(head, cap, adj, source, sink)
    value = sum(float(inst.priority[i]) * cap[entry[i] ^ 1] for i in demand)
    split = [(i, j, cap[e ^ 1] / inst.weights[i]) for i, j, e in pair_arcs if cap[e ^ 1] > EPS]
    return value, split


def _dinic(head: list, cap: list, adj: list, source: int, sink: int) -> None:
    """Push a maximum flow from ``source`` to ``sink`` through the residual capacities ``cap`` (in place)."""
    while True:
        level = [-1] * len(adj)
        level[source] = 0
        queue = deque([source])
        while queue:
            u = queue.popleft()
            for e in adj[u]:
                if cap[e] > EPS and level[head[e]] < 0:
                    level[head[e]] = level[u] + 1
                    queue.append(head[e])
        if level[sink] < 0:
            return
        it = [0] * len(adj)

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

        while push(source, math.inf) > EPS:
            pass


def lagrangian_bound(inst: MclpInstance, pad: _Padded, lower: float, *, iterations: int = 3000,
                     deadline: float | None = None, tolerance: float = 1e-3) -> tuple[float, list[int]]:
    """An upper bound on the optimum by subgradient optimisation of the Lagrangian dual.

    Also returns the best base set met on the way (the relaxed problems' choices, completed
    greedily), a good start for local search.
    """
    w, cap, worth = inst.weights, _capacity(inst), inst.value
    wpad = np.where(pad.mask, w[pad.safe], 0.0)
    lam = np.zeros_like(w)
    zoned = inst.zones is not None
    mu = np.zeros(len(inst.zone_min)) if zoned else np.zeros(0)
    member = np.flatnonzero(inst.zones >= 0) if zoned else np.zeros(0, np.int64)
    best = _trivial_bound(inst)
    theta, stale = 2.0, 0
    harvest, harvest_value = [], -1.0
    for step_number in range(iterations):
        profit = np.where(pad.mask, (worth - lam)[pad.safe], 0.0)
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
        if zoned:
            values[member] += mu[inst.zones[member]]
        chosen = _best_bases(inst, values)
        bound = float(lam.sum() + values[chosen].sum() - (mu @ inst.zone_min if zoned else 0.0))
        if step_number % 5 == 4:
            candidate = _complete(inst, pad, sorted(chosen, key=lambda j: -values[j]))
            value = _sequential(inst, pad, candidate)[0]
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
        if zoned:
            inside = inst.zones[chosen]
            zsub = np.bincount(inside[inside >= 0], minlength=len(mu)) - inst.zone_min
        else:
            zsub = np.zeros(0)
        norm = float(sub @ sub + zsub @ zsub)
        # Stop once the bound proves the incumbent within ``tolerance`` (relative).
        if norm < EPS or best - lower <= tolerance * max(1.0, best) or theta < 1e-5:
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
        step = theta * (bound - lower) / norm
        lam = np.clip(lam - step * sub, 0.0, worth)
        mu = np.maximum(mu - step * zsub, 0.0)
    return max(best, lower), harvest


def _complete(inst: MclpInstance, pad: _Padded, preferred: list[int]) -> list[int]:
    """The ``preferred`` bases that fit, in order, then greedy additions up to ``n_units`` bases."""
    chosen = []
    for j in preferred:
        if len(chosen) < inst.n_units and _allowed(inst, chosen)[j]:
            chosen.append(j)
    residual = _sequential(inst, pad, chosen)[1]
    while len(chosen) < inst.n_units:
        gains = np.where(_allowed(inst, chosen), _gains(inst, pad, residual), -1.0)
        j = int(np.argmax(gains))
        if gains[j] < 0:
            break
        chosen.append(j)
        _take(inst, pad, residual, j)
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
                    max_per_group: int | None = None, prioritised: bool = False, n_zones: int = 0) -> MclpInstance:
    """A random instance in the unit square (for tests and benchmarks).

    ``n_zones`` vertical bands each need one unit; a group (province) lies in one band.
    """
    points = rng.random((n_demand, 2))
    sites = points[rng.choice(n_demand, n_candidates, replace=False)] if n_candidates <= n_demand \
        else rng.random((n_candidates, 2))
    weights = np.round(rng.lognormal(7.0, 1.0, n_demand))
    dist = np.sqrt(((sites[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    reach = [np.flatnonzero(row <= radius) for row in dist]
    zones = np.minimum((sites[:, 0] * n_zones).astype(np.int64), n_zones - 1) if n_zones else None
    groups = None
    if n_groups:
        groups = rng.integers(0, n_groups, n_candidates)
        if n_zones:
            groups = groups * n_zones + zones
    return MclpInstance(weights=weights, reach=reach, n_units=n_units, capacity=capacity, groups=groups,
                        max_per_group=max_per_group if n_groups else None,
                        priority=rng.uniform(0.2, 1.0, n_demand) if prioritised else None,
                        zones=zones, zone_min=np.ones(n_zones, np.int64) if n_zones else None)
