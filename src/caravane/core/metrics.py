"""Where apps register their Prometheus collectors, so the metrics endpoint gathers them without importing apps."""

from __future__ import annotations

_COLLECTORS: list = []


def register_collector(collector) -> None:
    """Add a prometheus_client collector (an object with ``collect()``) to what ``/metrics`` exposes."""
    if collector not in _COLLECTORS:
        _COLLECTORS.append(collector)


def registered_collectors() -> list:
    """The collectors apps registered, in registration order."""
    return list(_COLLECTORS)
