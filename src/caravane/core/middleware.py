"""Security headers that Django's own middleware does not set, and the requests' metrics."""

import time

from django.core.exceptions import DisallowedHost
from django.db import DEFAULT_DB_ALIAS, connections

from caravane.core import metrics

# No 'unsafe-inline' anywhere: scripts and styles come from files the app serves, so an injected
# <script>, on*= handler or style= attribute is inert.
BASE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "media-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def content_security_policy(host: str | None) -> str:
    """The policy for a response; WebSockets may reach this host only (older browsers' 'self' omits ws:)."""
    connect = "connect-src 'self'" + (f" ws://{host} wss://{host}" if host else "")
    return "; ".join((*BASE_POLICY, connect))


def response_security_headers(host: str | None, path: str) -> dict[str, str]:
    """The headers this module adds to an answer to ``path`` (the read lane adds them too)."""
    headers = {
        "Content-Security-Policy": content_security_policy(host),
        "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(self)",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if path.startswith("/api/"):
        # API answers carry health data: never let a shared proxy or the browser cache keep them.
        headers["Cache-Control"] = "private, no-store"
    return headers


class SecurityHeadersMiddleware:
    """Adds a strict Content-Security-Policy (no inline script) and a Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            host = request.get_host()
        except DisallowedHost:
            host = None
        for name, value in response_security_headers(host, request.path).items():
            response.headers.setdefault(name, value)
        return response


class MetricsMiddleware:
    """Times each request and counts its answer by URL pattern for /metrics (see bench/metrics_middleware.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.observe_request(request, response.status_code, time.perf_counter() - started)
        metrics.sample_pool(connections[DEFAULT_DB_ALIAS])
        return response

    def process_exception(self, request, exception):
        metrics.observe_exception(request, exception)
