"""Static files once: hashed names, year-long caching, ES modules importing each other by hashed names."""

import re
from urllib.parse import urljoin

import pytest
from django.core.management import call_command
from django.template import engines
from django.test import Client


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """collectstatic's output, once for this module."""
    from django.test import override_settings

    root = tmp_path_factory.mktemp("collected")
    with override_settings(STATIC_ROOT=root):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def served(settings, collected):
    """Settings as a server after collectstatic has them (debug off), and a fresh client (its own WhiteNoise)."""
    settings.STATIC_ROOT = collected
    settings.DEBUG = False
    return Client()


def _static(name: str) -> str:
    return engines["django"].from_string("{% load static %}{% static name %}").render({"name": name})


def test_pages_link_static_files_by_their_content_hash(served, collected):
    url = _static("caravane/css/caravane.css")
    assert re.fullmatch(r"/static/caravane/css/caravane\.[0-9a-f]{12}\.css", url), url
    assert (collected / url.removeprefix("/static/")).exists()


def test_a_hashed_file_is_kept_a_year_and_a_plain_one_is_revalidated(served):
    url = _static("vendor/leaflet/leaflet.js")
    response = served.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=31536000, public, immutable"
    assert response["Content-Encoding"] == "gzip"
    plain = served.get("/static/vendor/leaflet/leaflet.js")
    assert plain.status_code == 200 and "immutable" not in plain["Cache-Control"]


def test_es_modules_import_their_dependencies_by_hashed_names(served, collected):
    for module in ("telemed/live.js", "care/js/queue.js"):
        url = _static(module)
        source = (collected / url.removeprefix("/static/")).read_text()
        imports = re.findall(r'from "([^"]+)"', source)
        assert imports and all(re.search(r"\.[0-9a-f]{12}\.js$", path) for path in imports), (module, imports)
        for path in imports:
            response = served.get(urljoin(url, path))  # as the browser resolves it, against the importing module
            assert response.status_code == 200 and "immutable" in response["Cache-Control"], path


def test_without_collected_files_pages_link_plain_names_served_from_the_apps(settings, client):
    settings.DEBUG = False
    url = _static("caravane/css/caravane.css")
    assert url == "/static/caravane/css/caravane.css"
    assert client.get(url).status_code == 200


def test_a_file_added_since_the_last_collection_goes_out_under_its_plain_name(served, collected):
    import json

    manifest = collected / "staticfiles.json"
    original = manifest.read_text()
    entries = json.loads(original)
    del entries["paths"]["caravane/css/caravane.css"]
    try:
        manifest.write_text(json.dumps(entries))
        from django.contrib.staticfiles.storage import staticfiles_storage

        staticfiles_storage._setup()  # a server started now: it reads the manifest afresh
        assert _static("caravane/css/caravane.css") == "/static/caravane/css/caravane.css"
        assert re.search(r"\.[0-9a-f]{12}\.js$", _static("telemed/live.js"))
    finally:
        manifest.write_text(original)
        staticfiles_storage._setup()
