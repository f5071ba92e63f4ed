"""The read lane: the hottest reads (a record by its id, by bearer token) served beside Django's request cycle.

Django serves a request through a fresh thread, a dozen middleware and a view framework; for a read of one
record that costs several times the read itself (bench/serving.py, bench/fhir_server.py). Apps register here the
few reads that machine clients repeat all day (``register``); the lane serves them from a pool of threads kept
for it, with the same gate, the same audit row, the same body and the same response headers as the full path.

A lane handler answers only the plain case: a valid token, a permitted read, a well-formed request. Whatever
else (no token, a refusal, a missing row, an unknown parameter, a session cookie) it hands back (returns None)
before anything is written, and Django serves the request as always, refusal, audit row and message included.
Every route the lane serves is also served by Django, and tests compare the two answers.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.http.request import split_domain_port, validate_host
from django.middleware.gzip import GZipMiddleware
from django.utils import translation
from django.utils.text import compress_string
from django.utils.translation.trans_real import get_supported_language_variant, parse_accept_lang_header

from caravane.core import metrics
from caravane.core.middleware import response_security_headers
from caravane.core.requestlog import log_access, request_id_of

# Django's GZipMiddleware leaves shorter bodies alone (compressing them gains nothing).
GZIP_MIN_BYTES = 200


@dataclass
class LaneRequest:
    """What a lane handler reads of an HTTP request (named as on Django's request where both have it)."""

    method: str
    scheme: str
    path: str
    query_string: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    client: str | None
    route: str
    args: dict
    language: str = ""
    user: object = None
    resolver_match: object = None

    def bearer(self) -> str | None:
        """The bearer token of the Authorization header, if any."""
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass
class LaneAnswer:
    """A lane handler's answer: the status, the body and the headers particular to it."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[LaneRequest], LaneAnswer | None]
_ROUTES: list[tuple[re.Pattern, str, Handler]] = []


def register(pattern: str, route: str, handler: Handler) -> None:
    """Serve GET requests whose path matches ``pattern`` (named groups become ``args``) with ``handler``.

    ``route`` is the URL pattern Django serves the same path with, as metrics and the access log name it.
    """
    _ROUTES.append((re.compile(pattern), route, handler))


def _language(headers: dict) -> str:
    """The answer's language from Accept-Language, as Django's LocaleMiddleware picks it for these paths."""
    for code, _quality in parse_accept_lang_header(headers.get("accept-language", "")):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _headers_of(scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _plain(scope, headers: dict) -> bool:
    """Whether Django would serve this request as is (no redirect to HTTPS, a host it accepts)."""
    host, _port = split_domain_port(headers.get("host", ""))
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return False
    if settings.SECURE_SSL_REDIRECT and not _secure(scope, headers):
        return False
    return True


def _secure(scope, headers: dict) -> bool:
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        return headers.get(proxy[0].removeprefix("HTTP_").replace("_", "-").lower(), "") == proxy[1]
    return scope.get("scheme") == "https"


def _serve(handler: Handler, request: LaneRequest) -> LaneAnswer | None:
    try:
        with translation.override(request.language):
            return handler(request)
    finally:
        # As at the end of a Django request: the connection goes back to the pool.
        close_old_connections()


def _response_headers(request: LaneRequest, answer: LaneAnswer, secure: bool) -> tuple[bytes, list]:
    body = answer.body
    headers = {"Content-Type": answer.content_type, "X-Frame-Options": "DENY",
               "Vary": "Accept-Language, Accept-Encoding", "Content-Language": request.language}
    headers.update(response_security_headers(request.headers.get("host"), request.path))
    headers.update(answer.headers)  # the handler's own win, as the middleware only sets what is missing
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        # Django's own compression, with the BREACH padding its middleware adds.
        body = compress_string(body, max_random_bytes=GZipMiddleware.max_random_bytes)
        headers["Content-Encoding"] = "gzip"
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers["X-Content-Type-Options"] = "nosniff"
    if settings.SECURE_REFERRER_POLICY:
        headers["Referrer-Policy"] = settings.SECURE_REFERRER_POLICY
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers["Cross-Origin-Opener-Policy"] = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
    if secure and settings.SECURE_HSTS_SECONDS:
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers["Strict-Transport-Security"] = value
    headers["Content-Length"] = str(len(body))
    return body, [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class ReadLane:
    """ASGI middleware: registered reads served by the lane's threads; every other request goes to ``app``."""

    def __init__(self, app, threads: int):
        self.app = app
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and _ROUTES:
            for pattern, route, handler in _ROUTES:
                match = pattern.fullmatch(scope["path"])
                if match is not None:
                    if await self._served(scope, send, route, handler, match.groupdict()):
                        return
                    break
        await self.app(scope, receive, send)

    async def _served(self, scope, send, route: str, handler: Handler, args: dict) -> bool:
        started = time.perf_counter()
        headers = _headers_of(scope)
        if "cookie" in headers or not _plain(scope, headers):
            return False  # a browser's session, or what Django answers otherwise: the full path
        client, query_string = scope.get("client"), scope.get("query_string", b"").decode("latin-1")
        secure = _secure(scope, headers)
        request = LaneRequest(
            method="GET", scheme="https" if secure else scope.get("scheme", "http"), path=scope["path"],
            query_string=query_string, query=parse_qsl(query_string, keep_blank_values=True),
            headers=headers, client=client[0] if client else None, route=route, args=args,
            language=_language(headers), resolver_match=SimpleNamespace(route=route, view_name=route))
        if self._executor is None:  # made in the serving process, after the fork
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="read-lane")
        answer = await asyncio.get_running_loop().run_in_executor(self._executor, _serve, handler, request)
        if answer is None:
            return False
        request_id = request_id_of(headers.get("x-request-id", "")) if settings.CARAVANE.access_log else None
        if request_id:
            answer.headers["X-Request-Id"] = request_id
        body, response_headers = _response_headers(request, answer, secure)
        await send({"type": "http.response.start", "status": answer.status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})
        metrics.observe_request(request, answer.status, time.perf_counter() - started)
        metrics.sample_pool(connections[DEFAULT_DB_ALIAS])
        if request_id:
            log_access(method="GET", route=request.route, status=answer.status, started=started, user=request.user,
                       request_id=request_id)
        return True
