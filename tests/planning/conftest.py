"""Fixtures for planning tests: the real facility list and a coordinator."""

from pathlib import Path

import pytest

HEALTHSITES = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "morocco" / "healthsites_2020"
               / "morocco_healthsites_2020.csv")


@pytest.fixture
def healthsites_csv():
    """The healthsites.io 2020 export for Morocco (skips when the shared data is absent)."""
    if not HEALTHSITES.exists():
        pytest.skip("shared healthsites data not available")
    return HEALTHSITES.read_bytes()


@pytest.fixture
def coordinator(staff_factory):
    """A national coordinator (no coverage region: national scope)."""
    return staff_factory(role="coordinator", username="coord", password="caravane-test-pass").user


@pytest.fixture
def inline_runs(monkeypatch):
    """After each request of the test client, a worker in the test's thread runs what the request queued."""
    from django.test import Client

    from caravane.tasks.worker import drain

    request = Client.request

    def request_then_drain(self, **kwargs):
        response = request(self, **kwargs)
        drain()
        return response

    monkeypatch.setattr(Client, "request", request_then_drain)


@pytest.fixture
def village_row(commune_factory):
    """Five rural communes along a parallel, 0.3 degrees apart (~40 road km), populations 1,000 to 5,000."""
    return [commune_factory(name=f"V{k}", lat=31.0, lon=-8.0 + 0.3 * k, population=1000 * (k + 1),
                            province_code="98.001" if k < 3 else "98.002") for k in range(5)]


def _load(relative: str, name: str):
    """A helper module of another test directory, loaded by path (test directories are not packages)."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / relative
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# The shared browser fixtures (live ASGI server, Chromium, login) of tests/browser, and worker processes.
_browser = _load("browser/conftest.py", "caravane_browser_fixtures")
asgi_server, live_asgi, playwright_instance = _browser.asgi_server, _browser.live_asgi, _browser.playwright_instance
browser, tablet, login = _browser.browser, _browser.tablet, _browser.login
module_chromium = _browser.module_chromium
worker_processes = _load("tasks/workers.py", "caravane_test_workers").worker_processes
CHROMIUM = _browser.CHROMIUM


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in the source language, whatever the default (French)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client():
    """A test client whose browser asks for English."""
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")
