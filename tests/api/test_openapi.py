"""The OpenAPI document is the API's contract: valid, complete, and its docs page needs no CDN."""

import re

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate(document)  # raises on any violation of the OpenAPI specification


def test_openapi_document_describes_resources_auth_and_errors(client):
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    for path in ("/api/sites", "/api/sites/{site_id}", "/api/sites/{site_id}/staff", "/api/staff",
                 "/api/staff/{staff_id}", "/api/specialties", "/api/device-kinds", "/api/geo/regions",
                 "/api/geo/provinces", "/api/geo/communes", "/api/geo/communes/{code}", "/api/tokens"):
        assert path in paths, path
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(
        s for s in schemes.values() if s.get("scheme") == "bearer").items()
    assert any(s.get("in") == "cookie" for s in schemes.values())
    site_list = paths["/api/sites"]["get"]
    assert {"401", "403", "400", "422"} <= set(site_list["responses"])
    parameters = {p["name"] for p in site_list["parameters"]}
    assert {"kind", "region", "province", "specialty", "q", "page", "page_size"} <= parameters


def test_docs_page_loads_its_assets_from_this_server(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the docs page should reference its script and stylesheet"
    for source in sources:
        assert source.startswith("/"), f"{source} is not served by the app"
        if source.startswith("/static/"):
            asset = client.get(source)
            assert asset.status_code == 200, source
            b"".join(asset.streaming_content if asset.streaming else [asset.content])
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'src="' in tag or 'type="application/json"' in tag, f"inline script {tag} breaks the CSP"
