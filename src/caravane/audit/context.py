"""The request context (client address, path) that audit rows are stamped with."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    client_address: str | None = None
    path: str = ""


_current = contextvars.ContextVar("caravane_audit_request", default=RequestContext())


def current_request_context() -> RequestContext:
    return _current.get()


def client_address(request) -> str | None:
    """The client's address; behind a proxy, the first hop it reports."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    """Makes the client address and path available to audit writers during a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(RequestContext(client_address=client_address(request), path=request.path[:300]))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
