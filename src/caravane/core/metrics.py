"""Prometheus metrics: what every server process measures, and the collectors apps register.

The server runs several processes: each writes its counters, histograms and gauges to files in
PROMETHEUS_MULTIPROC_DIR (set from Config before prometheus_client is imported), and a scrape of ``/metrics`` in any
of them sums the files of all (prometheus_client's multiprocess mode). The server clears the directory when it
starts (``reset_multiprocess_dir``) and tells it when a worker exits (``process_exited``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

_COLLECTORS: list = []

# Seconds: a page or API read is expected well under a second; the top buckets catch the pathological.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The pool's figures are read at most this often per process (reading takes the pool's lock).
POOL_SAMPLE_SECONDS = 1.0

REQUEST_LATENCY = Histogram(
    "caravane_http_request_duration_seconds", "Time to answer an HTTP request, by URL pattern and method.",
    ["route", "method"], buckets=LATENCY_BUCKETS)
RESPONSES = Counter(
    "caravane_http_responses", "HTTP responses by URL pattern, method and status class (2xx, 4xx, 5xx...).",
    ["route", "method", "status"])
EXCEPTIONS = Counter(
    "caravane_http_exceptions", "Requests whose view raised an unhandled exception, by URL pattern and exception.",
    ["route", "exception"])
WEBSOCKETS = Gauge(
    "caravane_websocket_connections", "WebSocket connections open, by consumer.", ["consumer"],
    multiprocess_mode="livesum")
# Summed over live processes: the pool's size and limits for the whole server, each process having its own pool.
POOL = {
    name: Gauge(f"caravane_db_pool_{name}", help_text, multiprocess_mode="livesum")
    for name, help_text in (
        ("size", "Connections the database pools hold (open, idle or in use)."),
        ("available", "Idle connections in the database pools."),
        ("max", "The most connections the database pools may open."),
        ("requests_waiting", "Requests waiting for a pooled connection."),
    )
}
_pool_sampled_at = [0.0]


def register_collector(collector) -> None:
    """Add a prometheus_client collector (an object with ``collect()``) to what ``/metrics`` exposes."""
    if collector not in _COLLECTORS:
        _COLLECTORS.append(collector)


def registered_collectors() -> list:
    """The collectors apps registered, in registration order."""
    return list(_COLLECTORS)


def route_of(request) -> str:
    """The URL pattern that served the request ("patients/<uuid:pk>/"), never its path with identifiers."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.route
    return "static" if request.path.startswith("/static/") else "unmatched"


def observe_request(request, status: int, seconds: float) -> None:
    """Record one answered request."""
    route = route_of(request)
    method = request.method if request.method in METHODS else "other"
    REQUEST_LATENCY.labels(route, method).observe(seconds)
    RESPONSES.labels(route, method, f"{status // 100}xx").inc()


def observe_exception(request, exception: Exception) -> None:
    """Record a view's unhandled exception (its answer, a 500, is counted as a response too)."""
    EXCEPTIONS.labels(route_of(request), type(exception).__name__).inc()


def sample_pool(connection, now: float | None = None) -> None:
    """Copy the database pool's figures into the gauges, at most every POOL_SAMPLE_SECONDS; nothing without a pool."""
    now = time.monotonic() if now is None else now
    if now - _pool_sampled_at[0] < POOL_SAMPLE_SECONDS:
        return
    _pool_sampled_at[0] = now
    if not (connection.settings_dict.get("OPTIONS") or {}).get("pool"):
        return
    stats = connection.pool.get_stats()
    POOL["size"].set(stats.get("pool_size", 0))
    POOL["available"].set(stats.get("pool_available", 0))
    POOL["max"].set(stats.get("pool_max", 0))
    POOL["requests_waiting"].set(stats.get("requests_waiting", 0))


def websocket_opened(consumer: str) -> None:
    """Count a WebSocket connection accepted by ``consumer``."""
    WEBSOCKETS.labels(consumer).inc()


def websocket_closed(consumer: str) -> None:
    """Count a WebSocket connection of ``consumer`` closed."""
    WEBSOCKETS.labels(consumer).dec()


def exposition() -> bytes:
    """The text a scrape returns: every process's metrics, summed, and the collectors apps registered."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in _COLLECTORS:
        registry.register(collector)
    return generate_latest(registry)


def reset_multiprocess_dir() -> None:
    """Remove the metrics files of earlier runs (every process's but this one's, which stay in use): the server
    calls this once when it starts, before its workers."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    own = f"_{os.getpid()}.db"
    for path in directory.glob("*.db"):
        if not path.name.endswith(own):
            path.unlink(missing_ok=True)


def process_exited(pid: int) -> None:
    """Forget a worker process's live gauges (open WebSockets, pool figures); the server calls this when one exits."""
    multiprocess.mark_process_dead(pid)
