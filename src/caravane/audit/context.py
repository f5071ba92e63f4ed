"""The request being served: the client address and path that audit rows are stamped with, and the gate's
decisions, so that each request leaves exactly one audit row (see ``caravane.audit.gate``)."""

from __future__ import annotations

import contextvars
import ipaddress
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Decision:
    """One answer of the gate: who asked for which permission on what, and whether it was granted."""

    user: object
    perm: str
    audit_action: str
    object_type: str
    object_id: str
    allowed: bool
    site: object = None
    reason: str = ""
    detail: dict = field(default_factory=dict)
    written: bool = False


@dataclass
class RequestContext:
    """What audit rows of the current request share, and what the gate decided during it."""

    client_address: str | None = None
    path: str = ""
    method: str = ""
    active: bool = False
    decisions: dict = field(default_factory=dict)
    rows_written: int = 0
    # Rows the gate read whole (no joins, no filters), by (type, id): a handler asking again gets the same row.
    rows_read: dict = field(default_factory=dict)
    # What ``gate.may`` found about objects' reach, so that a page asking twice queries once.
    reach_answers: dict = field(default_factory=dict)


_current = contextvars.ContextVar("caravane_audit_request", default=None)


def current_request_context() -> RequestContext:
    """The context of the request being served (an inactive empty one outside requests)."""
    return _current.get() or RequestContext()


@contextmanager
def request_context(*, client_address: str | None, path: str, method: str):
    """Serve one request (HTTP or WebSocket) within a fresh context; yields it."""
    context = RequestContext(client_address=client_address, path=path[:300], method=method, active=True)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def _ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address_of(peer: str | None, forwarded: str = "") -> str | None:
    """The client's address as recorded in audit rows.

    ``X-Forwarded-For`` is believed only when the direct peer is a local reverse proxy (loopback), and then
    only its last hop, the one that proxy appended: anything before it is written by the client and could
    be forged.
    """
    peer = _ip(peer or "")
    if forwarded and peer is not None and ipaddress.ip_address(peer).is_loopback:
        return _ip(forwarded.split(",")[-1]) or peer
    return peer


def client_address(request) -> str | None:
    """The client address of an HTTP request (see ``client_address_of``)."""
    return client_address_of(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR", ""))
