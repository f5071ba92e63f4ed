"""The read lane (caravane.core.lane) answers exactly as Django's full path does, and hands back all else.

Each request goes through the served ASGI application. A request that carries a cookie is never taken by the
lane, so the same request with a harmless cookie shows what the full path answers.
"""

from __future__ import annotations

import gzip
import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator

from tests.fhir.conftest import token_for, validate

pytestmark = pytest.mark.django_db(transaction=True)

# Headers that differ between any two answers, whoever serves them.
EVERY_TIME = {"date", "content-length", "vary"}


@pytest.fixture
def lane_calls(monkeypatch):
    """The answers the lane's handlers gave, in order (None: handed back to Django)."""
    from caravane.core import lane

    answers = []

    def counted(handler):
        def wrapper(request):
            answer = handler(request)
            answers.append(answer)
            return answer
        return wrapper

    monkeypatch.setattr(lane, "_ROUTES", [(pattern, route, counted(handler)) for pattern, route, handler in lane._ROUTES])
    return answers


def served(path: str, token: str | None = None, *, full_path: bool = False, **extra):
    """Status, headers and decoded body of GET ``path`` through the served application."""
    from caravane.asgi import application

    headers = [(b"host", b"testserver"), (b"accept-encoding", b"gzip"), (b"accept-language", b"ar")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if full_path:
        headers.append((b"cookie", b"seen=1"))
    headers += [(name.encode(), value.encode()) for name, value in extra.items()]
    answer = async_to_sync(HttpCommunicator(application, "GET", path, headers=headers).get_response)(timeout=20)
    named = {name.decode().lower(): value.decode() for name, value in answer["headers"]}
    body = answer["body"]
    if named.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return answer["status"], named, body


def last_row():
    from caravane.audit.models import AuditEvent

    row = AuditEvent.objects.order_by("-sequence").first()
    return (row.actor_id, row.action, row.outcome, row.object_type, row.object_id, row.site_id, row.path, row.detail)


@pytest.mark.parametrize("path", ["/api/patients/{fatima}", "/fhir/R4/Patient/{fatima}",
                                  "/fhir/R4/Observation?patient={fatima}&code=29463-7",
                                  "/fhir/R4/Patient?name=fatima&_include=Patient:organization"])
def test_the_lane_answers_as_the_full_path_with_the_same_audit_row(path, people, patients, visit, lane_calls):
    from caravane.audit.models import AuditEvent

    token = token_for(people["nurse"])
    path = path.format(fatima=patients["fatima"].pk)
    before = AuditEvent.objects.count()
    lane_status, lane_headers, lane_body = served(path, token)
    lane_row = last_row()
    assert len(lane_calls) == 1 and lane_calls[0] is not None, "the lane served it"
    full_status, full_headers, full_body = served(path, token, full_path=True)
    assert len(lane_calls) == 1, "the full path served the second"
    assert AuditEvent.objects.count() == before + 2
    assert lane_status == full_status == 200
    lane_json, full_json = json.loads(lane_body), json.loads(full_body)
    if path.startswith("/fhir/"):
        validate(lane_json)
    assert lane_json == full_json
    assert lane_row == last_row()
    assert lane_row[2] == "allowed" and lane_row[6] == path.partition("?")[0]
    assert {k: v for k, v in lane_headers.items() if k not in EVERY_TIME} == \
        {k: v for k, v in full_headers.items() if k not in EVERY_TIME}
    assert lane_headers["content-language"] == "ar" and lane_headers["content-encoding"] == "gzip"


def test_what_the_lane_does_not_answer_the_full_path_answers_and_audits(people, patients, lane_calls):
    from caravane.audit.models import AuditEvent

    nurse = token_for(people["nurse"])
    fatima, talsint = patients["fatima"].pk, patients["talsint"].pk
    before = AuditEvent.objects.count()
    # Beyond her reach: 403, one denied row, nothing written by the lane.
    status, _headers, body = served(f"/api/patients/{talsint}", nurse)
    assert status == 403 and lane_calls == [None]
    assert AuditEvent.objects.count() == before + 1 and last_row()[2] == "denied"
    status, _headers, body = served(f"/fhir/R4/Patient/{talsint}", nurse)
    assert status == 403 and json.loads(body)["resourceType"] == "OperationOutcome"
    assert AuditEvent.objects.count() == before + 2 and last_row()[2] == "denied"
    # No token, a revoked one, an unknown parameter, an unknown record, a host Django refuses.
    assert served(f"/api/patients/{fatima}")[0] == 401
    assert served(f"/api/patients/{fatima}", "crv_not-a-token")[0] == 401
    assert served(f"/api/patients/{fatima}?fields=all", nurse)[0] == 400
    assert served("/api/patients/00000000-0000-7000-8000-000000000000", nurse)[0] == 404
    assert served(f"/api/patients/{fatima}", nurse, host="evil.example")[0] == 400
    assert served("/fhir/R4/Patient?nickname=x", nurse)[0] == 400
    assert all(answer is None for answer in lane_calls)


def test_a_revoked_token_is_refused_at_once(people, patients, lane_calls):
    from caravane.accounts.actions import do_create_api_token, do_revoke_api_token

    api_token, raw = do_create_api_token(user=people["nurse"], name="revoked at once")
    assert served(f"/api/patients/{patients['fatima'].pk}", raw)[0] == 200
    do_revoke_api_token(actor=people["nurse"], token=api_token)
    assert served(f"/api/patients/{patients['fatima'].pk}", raw)[0] == 401
    assert lane_calls[-1] is None


def test_the_lane_writes_the_access_log_line_and_request_id(people, patients, lane_calls, settings, caplog):
    import dataclasses
    import logging

    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, access_log=True)
    access = logging.getLogger("caravane.access")  # it does not propagate: its own handler writes stdout
    access.addHandler(caplog.handler)
    try:
        status, headers, _body = served(f"/api/patients/{patients['fatima'].pk}", token_for(people["nurse"]),
                                        **{"x-request-id": "nginx-req-12345678"})
    finally:
        access.removeHandler(caplog.handler)
    assert status == 200 and lane_calls[-1] is not None
    assert headers["x-request-id"] == "nginx-req-12345678"
    line = json.loads(caplog.records[-1].getMessage())
    assert line["route"] == "api/patients/<uuid:pk>" and line["status"] == 200
    assert line["user"] == str(people["nurse"].pk) and str(patients["fatima"].pk) not in caplog.text
