"""Reads by bearer token on the read lane (``caravane.core.lane``): the token's user, the gate's audit context.

``bearer_read(serve)`` makes a lane handler of ``serve(user, request)``. The request acts as the token's user;
the gate's decisions are taken in an audit context as in Django's AuditMiddleware, and its row is written once
the answer is ready, exactly as the full path writes it. Nothing is written for a request handed back: without a
usable token, or when ``serve`` refuses, finds nothing or fails (it raises or returns None), the request goes to
Django, which answers it (401, 403, 404, 400...) and writes its row as always.
"""

from __future__ import annotations

from collections.abc import Callable

from caravane.accounts.api_auth import user_of_token
from caravane.audit import gate
from caravane.audit.context import client_address_of, request_context
from caravane.core.lane import LaneAnswer, LaneRequest


def bearer_read(serve: Callable[[object, LaneRequest], LaneAnswer | None]):
    """A read-lane handler serving ``serve(user, request)`` for a bearer token's user (see the module)."""

    def handler(request: LaneRequest) -> LaneAnswer | None:
        user = user_of_token(request.bearer())
        if user is None:
            return None
        request.user = user
        address = client_address_of(request.client, request.headers.get("x-forwarded-for", ""))
        with request_context(client_address=address, path=request.path, method=request.method) as context:
            try:
                answer = serve(user, request)
            except Exception:  # noqa: BLE001 - whatever went wrong, Django serves the request and says so
                return None
            if answer is not None:
                gate.finish(context, answer.status)
            return answer

    return handler
