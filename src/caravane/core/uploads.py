"""A request larger than CARAVANE_MAX_REQUEST_BYTES is refused (413) before its body is read.

Two layers share the limit. ``RequestBodyLimit`` wraps the ASGI application: it does not read a body declared
larger than the limit, and stops reading one sent without a length (chunked) once it passes the limit, so no more
than the limit is ever read (to disk: Django spools bodies there). ``RequestSizeLimitMiddleware`` then answers the
413 in the reader's language (JSON under /api/, a page elsewhere), before CSRF or a form parses the body; it also
guards the test client and WSGI, by the declared length.
"""

from __future__ import annotations

import asyncio

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Set in the ASGI scope when the body was not read, or not read to its end, because it is too large.
TOO_LARGE = "caravane.request_too_large"


def _declared_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestBodyLimit:
    """ASGI middleware: the application sees an empty body, and the scope says why, when the body is too large."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope = dict(scope)
        limit = settings.CARAVANE_MAX_REQUEST_BYTES
        length = _declared_length(scope)
        if length is not None and length > limit:
            scope[TOO_LARGE] = True
        return await self.app(scope, _limited(receive, scope, limit), send)


def _limited(receive, scope, limit: int):
    """``receive`` that ends the body, and reads no further from the client, once the body is too large."""
    received = 0
    cut = False

    async def receive_limited():
        nonlocal received, cut
        if cut:
            # Django waits for a disconnect while it answers, and cancels this wait once the 413 is sent;
            # the server then drops what is left of the body.
            await asyncio.Event().wait()
        if not scope.get(TOO_LARGE):
            message = await receive()
            if message["type"] != "http.request":
                return message
            received += len(message.get("body", b""))
            if received <= limit:
                return message
            scope[TOO_LARGE] = True
        cut = True
        return {"type": "http.request", "body": b"", "more_body": False}

    return receive_limited


def request_too_large(request) -> bool:
    """Whether the request's body is, or was declared, larger than the limit."""
    if getattr(request, "scope", {}).get(TOO_LARGE):
        return True
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.CARAVANE_MAX_REQUEST_BYTES


class RequestSizeLimitMiddleware:
    """Answers 413 to a request larger than CARAVANE_MAX_REQUEST_BYTES, without reading its body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request_too_large(request):
            return self.get_response(request)
        message = _("This request is larger than the %(limit)s the server accepts: send fewer or smaller files.") % {
            "limit": filesizeformat(settings.CARAVANE_MAX_REQUEST_BYTES)}
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "errors": []}, status=413)
        return render(request, "413.html", {"message": message}, status=413)
