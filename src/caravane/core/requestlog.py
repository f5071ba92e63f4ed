"""Structured access log: one JSON line per request, when CARAVANE_ACCESS_LOG is on.

The line names the route (``api/patients/<uuid:patient_id>``), never the raw path, so that patient and act
identifiers stay out of the log; the request id comes from the reverse proxy (nginx's ``$request_id`` in
``X-Request-Id``) when it sends a plausible one, and is made here otherwise, and goes back in the response.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone

logger = logging.getLogger("caravane.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def route_of(request) -> str:
    """The URL pattern that served the request, or '-' when none matched."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "-"
    return match.route or match.view_name or "-"


def request_id_of(offered: str) -> str:
    """The proxy's request id when it is a plausible one, else a new one."""
    return offered if REQUEST_ID.match(offered) else uuid.uuid4().hex


def log_access(*, method: str, route: str, status: int, started: float, user, request_id: str) -> None:
    """Write one request's line (the read lane writes its requests' lines too)."""
    logger.info(json.dumps({
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "user": user.pk if user is not None and user.is_authenticated else None,
        "request_id": request_id,
    }, default=str))


class AccessLogMiddleware:
    """Writes one JSON line per request to the ``caravane.access`` logger (stdout)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = request_id_of(request.headers.get("X-Request-Id", ""))
        response = self.get_response(request)
        response.headers.setdefault("X-Request-Id", request_id)
        log_access(method=request.method, route=route_of(request), status=response.status_code, started=started,
                   user=getattr(request, "user", None), request_id=request_id)
        return response
