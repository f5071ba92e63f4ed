"""The HTTP endpoint of the FHIR server: authentication, content negotiation, and OperationOutcome for every error.

Authentication is the application API's (bearer token, or the browser session with its CSRF rule), and the
request runs in the audit middleware's context, so that the gate audits FHIR reads as it audits pages.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, QueryDict
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import HttpError

from caravane.accounts.api_auth import SESSION_AUTH, TokenAuth
from caravane.audit import gate
from caravane.core.lane import LaneAnswer, LaneRequest
from caravane.fhir.server.bundle import process
from caravane.fhir.server.context import FhirContext
from caravane.fhir.server.errors import FhirError, operation_outcome
from caravane.fhir.server.interactions import Answer, as_fhir_error, interact, parse_body

FHIR_JSON = "application/fhir+json; charset=utf-8"
ACCEPTED_BODIES = ("application/fhir+json", "application/json", "application/json+fhir")
TOKEN_AUTH = TokenAuth()


def _user(request):
    """The author of the request: a bearer token's user, else the session's (unsafe methods need CSRF)."""
    try:
        user = TOKEN_AUTH(request)
        if user is None and request.user.is_authenticated:
            user = SESSION_AUTH(request)
    except HttpError as error:
        raise FhirError(error.status_code, "security", str(error)) from None
    if user is None:
        gate.security_event("fhir.unauthenticated", reason="no valid session or token")
        raise FhirError(401, "login", _("Authenticate with a bearer token (Authorization: Bearer crv_...)."),
                        headers={"WWW-Authenticate": 'Bearer realm="caravane"'})
    return request.user


def _content(answer: Answer) -> bytes:
    return answer.body if isinstance(answer.body, bytes) else (
        b"" if answer.body is None else json.dumps(answer.body, ensure_ascii=False).encode())


def _respond(answer: Answer) -> HttpResponse:
    response = HttpResponse(_content(answer), status=answer.status, content_type=FHIR_JSON)
    # Answers carry health data: never let a shared proxy or the browser cache keep them.
    response["Cache-Control"] = "private, no-store"
    for name, value in answer.headers.items():
        response[name] = value
    return response


def _refusal(error: FhirError) -> HttpResponse:
    return _respond(Answer(error.status, error.outcome(), error.headers))


@login_not_required  # it authenticates itself and answers 401 as an OperationOutcome
@csrf_exempt
def endpoint(request, path: str = ""):
    """Every FHIR interaction below /fhir/R4/."""
    base = request.build_absolute_uri(request.path[:len(request.path) - len(path)]).rstrip("/")
    segments = [segment for segment in path.split("/") if segment]
    try:
        lenient = "handling=lenient" in request.headers.get("Prefer", "")
        if segments == ["metadata"] and request.method == "GET":
            # The capability statement is public (clients read it before they authenticate).
            return _respond(interact(FhirContext(request, None, base), "GET", segments, request.GET))
        ctx = FhirContext(request, _user(request), base, lenient=lenient)
        if request.method in ("POST", "PUT"):
            kind = request.content_type or ""
            if kind not in ACCEPTED_BODIES:
                raise FhirError(415, "not-supported", _("Send FHIR JSON (application/fhir+json), not “%(type)s”.") % {"type": kind})
        if not segments and request.method == "POST":
            return _respond(process(ctx, parse_body(request.body, "Bundle")))
        answer = interact(ctx, request.method, segments, request.GET, raw_body=request.body,
                          if_match=request.headers.get("If-Match"))
        prefer = request.headers.get("Prefer", "")
        if request.method in ("POST", "PUT") and "return=minimal" in prefer:
            answer.body = None
        elif request.method in ("POST", "PUT") and "return=OperationOutcome" in prefer:
            # What a lenient write left out is told here (a resource has no place for it).
            answer.body = operation_outcome(ctx.issues)
        return _respond(answer)
    except Exception as error:  # noqa: BLE001 - as_fhir_error re-raises what is not a refusal (a 500)
        return _refusal(as_fhir_error(error))


def read_on_lane(user, request: LaneRequest) -> LaneAnswer | None:
    """A read or search on the read lane (caravane.core.lane): the same interaction, gate and audit row as
    ``endpoint``; operations and the capability statement stay on the full path."""
    segments = [segment for segment in request.args["path"].split("/") if segment]
    if not segments or segments == ["metadata"] or any(segment.startswith("$") for segment in segments):
        return None
    ctx = FhirContext(request, user, f"{request.scheme}://{request.headers['host']}/fhir/R4",
                      lenient="handling=lenient" in request.headers.get("prefer", ""))
    answer = interact(ctx, "GET", segments, QueryDict(request.query_string))
    # The full path reads the session (a browser may authenticate so): its answers vary with the cookie.
    return LaneAnswer(answer.status, _content(answer), FHIR_JSON,
                      {"Cache-Control": "private, no-store", **answer.headers,
                       "Vary": "Accept-Language, Cookie, Accept-Encoding"})
