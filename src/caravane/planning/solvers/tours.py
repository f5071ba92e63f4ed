"""Periodic tours of one mobile unit over a horizon of working days, with OR-Tools routing.

Each working day is a vehicle leaving the base. A commune to visit ``f`` times becomes
``f`` visit nodes; visit ``k`` must fall in the ``k``-th of ``f`` equal slices of the
horizon, which spreads the visits evenly. A day's route is bounded by the daily driving
limit (km) and by the working day (driving at ``speed_kmh`` plus ``service_minutes`` per
stop). With ``return_to_base`` off the unit stays overnight at its last stop: the drive
back is not counted in that day. A visit that fits nowhere is dropped and reported.
Runs in its own process (``python -m``) because OR-Tools cannot share one with HiGHS.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from caravane.planning.geodesy import great_circle_km
from caravane.planning.solvers import serve_stdin

DROP_PENALTY_KM = 100_000
# Inserting each visit where it costs least copes with the day windows better than extending paths
# (path-cheapest-arc, OR-Tools' usual start), which strands far visits: fewer dropped visits, see the bench.
FIRST_SOLUTION = "LOCAL_CHEAPEST_INSERTION"


def plan_unit(unit: dict, options: dict) -> dict:
    """Days of one unit: ``{"days": [[stop ids...], ...], "day_km": [...], "dropped": [...]}``."""
    days = int(options["days"])
    visits = [(stop["id"], k, int(stop["visits"])) for stop in unit["stops"] for k in range(int(stop["visits"]))]
    if not visits or days < 1:
        return {"days": [[] for _ in range(max(days, 0))], "day_km": [0.0] * max(days, 0),
                "dropped": [v[0] for v in visits], "total_km": 0.0}
    where = {stop["id"]: (stop["lat"], stop["lon"]) for stop in unit["stops"]}
    lat = np.array([unit["base"]["lat"]] + [where[v[0]][0] for v in visits])
    lon = np.array([unit["base"]["lon"]] + [where[v[0]][1] for v in visits])
    km = options.get("detour_factor", 1.4) * great_circle_km(lat, lon, lat, lon)
    if not options.get("return_to_base", True):
        km[1:, 0] = 0.0
    metres = np.rint(km * 1000).astype(np.int64)
    minutes = np.rint(km / options["speed_kmh"] * 60).astype(np.int64)
    minutes[:, 1:] += int(options["service_minutes"])

    manager = pywrapcp.RoutingIndexManager(len(lat), days, 0)
    routing = pywrapcp.RoutingModel(manager)

    def callback(matrix):
        return routing.RegisterTransitCallback(
            lambda a, b: int(matrix[manager.IndexToNode(a), manager.IndexToNode(b)]))

    distance = callback(metres)
    routing.SetArcCostEvaluatorOfAllVehicles(distance)
    routing.AddDimension(distance, 0, int(options["daily_km"] * 1000), True, "km")
    routing.AddDimension(callback(minutes), 0, int(options["day_minutes"]), True, "time")
    for node, (_stop, k, f) in enumerate(visits, start=1):
        index = manager.NodeToIndex(node)
        routing.AddDisjunction([index], DROP_PENALTY_KM * 1000)
        window = [d for d in range(days) if d * f // days == k]
        routing.VehicleVar(index).SetValues([-1] + window)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy,
                                             options.get("first_solution", FIRST_SOLUTION))
    if options.get("metaheuristic", True):
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(options["time_limit"] * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return {"days": [[] for _ in range(days)], "day_km": [0.0] * days,
                "dropped": [v[0] for v in visits], "total_km": 0.0}
    plan, day_km, served = [], [], set()
    for day in range(days):
        index, stops, length = routing.Start(day), [], 0
        while not routing.IsEnd(index):
            nxt = solution.Value(routing.NextVar(index))
            length += metres[manager.IndexToNode(index), manager.IndexToNode(nxt)]
            index = nxt
            node = manager.IndexToNode(index)
            if node:
                stops.append(visits[node - 1][0])
                served.add(node)
        plan.append(stops)
        day_km.append(round(length / 1000, 2))
    dropped = [visits[n - 1][0] for n in range(1, len(lat)) if n not in served]
    return {"days": plan, "day_km": day_km, "dropped": dropped, "total_km": round(sum(day_km), 2)}


def main(payload: dict) -> dict:
    """Subprocess entry: ``{"units": [{"base", "stops"}], "options": {...}}`` -> one plan per unit."""
    start = time.perf_counter()
    plans = [plan_unit(unit, payload["options"]) for unit in payload["units"]]
    return {"units": plans, "seconds": time.perf_counter() - start}


if __name__ == "__main__":
    serve_stdin(main)
