"""The request context (client address, path) that audit rows are stamped with."""

from __future__ import annotations

import contextvars
import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    client_address: str | None = None
    path: str = ""


_current = contextvars.ContextVar("caravane_audit_request", default=RequestContext())


def current_request_context() -> RequestContext:
    return _current.get()


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's address as recorded in audit rows.

    ``X-Forwarded-For`` is believed only when the direct peer is a local reverse proxy
    (loopback), and then only its last hop, the one that proxy appended: anything
    before it is written by the client and could be forged.
    """
    peer = _ip(request.META.get("REMOTE_ADDR") or "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and peer is not None and ipaddress.ip_address(peer).is_loopback:
        return _ip(forwarded.split(",")[-1]) or peer
    return peer


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
