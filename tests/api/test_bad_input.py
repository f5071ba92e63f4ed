"""Bad input never reaches a 500: each gets a JSON 4xx naming the field, and the OpenAPI document declares it."""

import json

import pytest
from django.test import Client

from caravane.core.api import MAX_PAGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def gp(network, bearer):
    """The bearer headers of a site's GP, in English."""
    return {**bearer(network.gp_a.user), "Accept-Language": "en"}


def _fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def _paged_lists(client) -> list[str]:
    document = client.get("/api/openapi.json").json()
    return [path for path, operations in document["paths"].items()
            if "get" in operations and "{" not in path
            and any(p["name"] == "page" for p in operations["get"].get("parameters", []))]


def test_a_huge_page_number_is_a_422_naming_page_on_every_paged_list(client, network):
    paths = _paged_lists(client)
    assert len(paths) >= 10
    client.force_login(network.gp_a.user)  # the session reaches every list, /api/tokens included
    checked = 0
    for path in paths:
        for page in (MAX_PAGE + 1, 10 ** 30):
            response = client.get(path, {"page": page})
            if response.status_code == 403:  # a list the GP's role may not read is refused before its input
                continue
            assert response.status_code == 422, (path, response.content)
            assert _fields(response) == ["page"], path
            checked += 1
    assert checked >= 2 * 10


def test_a_page_past_the_last_is_empty(client, gp):
    response = client.get("/api/sites", {"page": MAX_PAGE}, headers=gp)
    assert response.status_code == 200
    assert response.json()["results"] == [] and response.json()["next"] is None


def test_a_lone_surrogate_in_json_is_a_400_naming_the_field(client, gp):
    body = '{"gender": "female", "age_years": 30, "given_name": "Fati\\ud800ma"}'
    response = client.post("/api/patients/", body, content_type="application/json", headers=gp)
    assert response.status_code == 400
    assert _fields(response) == ["given_name"]
    assert "surrogate" in response.json()["errors"][0]["message"]


@pytest.fixture
def coordinator(network, bearer, staff_factory):
    """The bearer headers of a national coordinator (who may plan), in English."""
    return {**bearer(staff_factory(role="coordinator").user), "Accept-Language": "en"}


def test_a_nul_character_anywhere_is_a_400_naming_where(client, gp, coordinator):
    body = json.dumps({"gender": "female", "age_years": 30, "given_name": "Fatima", "address": "Douar\x00 Tizi"})
    response = client.post("/api/patients/", body, content_type="application/json", headers=gp)
    assert response.status_code == 400 and _fields(response) == ["address"]
    assert "NUL" in response.json()["errors"][0]["message"]
    assert _fields(client.get("/api/patients/", {"q": "Fati\x00ma"}, headers=gp)) == ["q"]
    assert _fields(client.get("/api/geo/regions/0\x001", headers=gp)) == ["code"]
    nested = client.post("/api/planning/scenarios", json.dumps({"parameters": {"provinces": ["a\x00"]}}),
                         content_type="application/json", headers=coordinator)
    assert nested.status_code == 400 and _fields(nested) == ["parameters.provinces.0"]


def test_nan_and_infinity_in_json_are_400s(client, coordinator):
    for number in ("NaN", "Infinity", "1e999"):
        response = client.post("/api/planning/scenarios", '{"parameters": {"units": %s}}' % number,
                               content_type="application/json", headers=coordinator)
        assert response.status_code == 400, number


def test_a_json_body_over_the_limit_is_a_json_413(client, gp, settings):
    body = json.dumps({"gender": "female", "given_name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = client.post("/api/patients/", body, content_type="application/json", headers=gp)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["detail"]


def test_unknown_query_parameters_are_400s_naming_them(client, gp):
    response = client.get("/api/sites", {"kind": "rural_health_centre", "colour": "blue", "pge": "2"}, headers=gp)
    assert response.status_code == 400
    assert sorted(_fields(response)) == ["colour", "pge"]
    assert _fields(client.get("/api/geo/regions/01", {"lang": "ar"}, headers=gp)) == ["lang"]
    declared = client.get("/api/sites", {"kind": "rural_health_centre", "page": 1, "page_size": 5}, headers=gp)
    assert declared.status_code == 200


def test_unmatched_routes_and_methods_answer_json_whatever_the_method(client, network):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(network.gp_a.user)
    for method in ("get", "post", "put", "delete"):
        response = getattr(browser, method)("/api/no-such-thing")
        assert response.status_code == 404, method
        assert response.json()["detail"]
    not_allowed = browser.delete("/api/sites")
    assert not_allowed.status_code == 405
    assert "GET" in not_allowed["Allow"] and "GET" in not_allowed.json()["detail"]


def test_a_csrf_failure_on_the_api_is_json(network):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(network.gp_a.user)
    response = browser.post("/api/patients/", {"gender": "female"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.parametrize("debug", [False, True])
def test_an_internal_error_is_a_json_500_without_traceback(client, gp, monkeypatch, settings, debug, caplog):
    from caravane.geo import api as geo_api

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    settings.DEBUG = debug
    monkeypatch.setattr(geo_api, "get_or_404", broken)
    response = client.get("/api/geo/regions/01", headers=gp)
    assert response.status_code == 500
    assert response.json() == {"detail": response.json()["detail"], "errors": []}
    assert b"secret internals" not in response.content and b"Traceback" not in response.content
    assert "secret internals" in caplog.text  # the operators have it


def test_every_operation_documents_the_errors_it_may_answer(client):
    document = client.get("/api/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = {"400", "401", "403", "404", "422"} | ({"413"} if "requestBody" in operation else set())
            assert expected <= set(operation["responses"]), (method, path)
            for status in expected:
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}


def test_an_html_error_page_under_the_api_becomes_json(rf):
    from django.http import HttpResponse

    from caravane.core.api import ApiErrorsMiddleware

    def debug_page(request):
        return HttpResponse("<h1>Traceback</h1> secret", status=500, content_type="text/html")

    answer = ApiErrorsMiddleware(debug_page)(rf.get("/api/sites"))
    assert answer.status_code == 500 and b"secret" not in answer.content and json.loads(answer.content)["detail"]
    page = ApiErrorsMiddleware(debug_page)(rf.get("/patients/"))
    assert b"secret" in page.content  # the pages keep Django's own error pages


def test_dates_with_any_utc_offset_are_read_as_instants(client, gp, network):
    slots = "/api/telemed/slots"
    query = {"hub": str(network.hub.pk), "specialty": "cardiology"}
    # PostgreSQL refuses offsets beyond 15:59, which ISO 8601 allows.
    assert client.get(slots, {**query, "start_after": "2031-07-16T11:00:48+22:51"}, headers=gp).status_code == 200
    response = client.get(slots, {**query, "start_after": "9999-12-31T23:00:00-05:00"}, headers=gp)
    assert response.status_code == 422 and _fields(response) == ["start_after"]
