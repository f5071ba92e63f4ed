"""Reusable fixtures for browser tests: a live ASGI server, Debian's Chromium and a login helper.

Typical use (see tests/browser/test_foundation.py)::

    pytestmark = pytest.mark.browser

    def test_something(live_asgi, browser, login, staff_factory):
        staff_factory(role="nurse", site=site, username="nurse1")   # committed: the server sees it
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        login(page, "nurse1")
        page.goto(live_asgi.url("/sites/"))

Several people at once (e.g. a nurse, a GP and a specialist): ``person(username)`` opens a signed-in
context of its own (separate cookies) for each, and their pages are driven side by side.
WebSockets work because the server is the real ASGI application (HTTP + Channels).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "caravane-test-pass"  # the password tests/conftest.py's staff_factory gives everyone
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SERVER_START_SECONDS = 30


def pytest_collection_modifyitems(config, items):
    """Skip browser tests cleanly where Chromium or Playwright is missing (never download a browser)."""
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed"
    if reason:
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def _database_url(settings_dict) -> str:
    """A DATABASE_URL naming the test database the test process is using right now."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        name = str(settings_dict["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise RuntimeError("a server in another process cannot see an in-memory SQLite test database")
        return f"sqlite:///{Path(name).resolve()}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{settings_dict.get('HOST') or 'localhost'}{port}/{settings_dict['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    """A running server: ``url(path)`` gives an absolute address on it; ``ws_url(path)`` the WebSocket one."""

    base_url: str
    log_path: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def ws_url(self, path: str) -> str:
        return self.base_url.replace("http://", "ws://", 1) + path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def _running_server(log_path: Path, host: str = "127.0.0.1", port: int | None = None, **environment):
    """uvicorn in a subprocess, against this session's test database, on ``host`` (a free port unless given),
    until the block ends."""
    from django.conf import settings
    from django.db import connection

    port = port or _free_port()
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DATABASE_URL": _database_url(connection.settings_dict),
                "CARAVANE_DATA_DIR": str(settings.CARAVANE.data_dir), "DJANGO_SETTINGS_MODULE": "caravane.settings",
                "PYTHONUNBUFFERED": "1", **environment})
    command = [sys.executable, "-m", "uvicorn", "caravane.asgi:application", "--host", host,
               "--port", str(port), "--lifespan", "off", "--log-level", "warning", "--no-access-log"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(base_url=f"http://{host}:{port}", log_path=log_path)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the ASGI server exited with {process.returncode}:\n{server.log()}")
            try:
                with urllib.request.urlopen(server.url("/healthz"), timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the ASGI server did not answer within {SERVER_START_SECONDS}s:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def asgi_server(request, django_db_setup, tmp_path_factory):
    """Start uvicorn in a subprocess, against this session's test database, on a free port.

    The subprocess has its own connections, so it sees only committed data: use it through
    ``live_asgi`` (which brings ``transactional_db``), not with plain ``db`` tests. Its channel
    layer is in memory unless REDIS_URL is set: events published by the server reach the
    browsers it serves; events published by the test process itself need REDIS_URL.

    One server for the session, however many test modules import this fixture: to pytest each import
    is a fixture of its own, which would start a server of its own (seconds each, kept to the end).
    """
    shared = request.config.__dict__.setdefault("_caravane_asgi_server", {})
    if "server" in shared:
        yield shared["server"]
        return
    with _running_server(tmp_path_factory.mktemp("asgi") / "server.log") as server:
        shared["server"] = server
        try:
            yield server
        finally:
            del shared["server"]


@pytest.fixture(scope="session")
def served_asgi_server(django_db_setup, tmp_path_factory):
    """A server as `caravane serve` runs one after collectstatic: debug off, static files under hashed names
    (collected into a data folder of its own, so that other servers keep serving this checkout's sources)."""
    from django.core.management import call_command
    from django.test import override_settings

    data = tmp_path_factory.mktemp("served")
    with override_settings(STATIC_ROOT=data / "static"):
        call_command("collectstatic", interactive=False, verbosity=0)
    with _running_server(data / "server.log", CARAVANE_DATA_DIR=str(data), CARAVANE_DEBUG="0") as server:
        yield server


@pytest.fixture
def live_asgi(asgi_server, transactional_db):
    """The live ASGI server, with data that tests create committed so the server can read it."""
    return asgi_server


@pytest.fixture
def live_served(served_asgi_server, transactional_db):
    """The collected, debug-off server, with data that tests create committed so the server can read it."""
    return served_asgi_server


@pytest.fixture(scope="module")
def playwright_instance():
    """Playwright's sync API, for one test module (starting it and a browser costs seconds a test).

    It runs an event loop in this thread, which trips Django's guard against database calls from
    async code although the test's own calls are plain synchronous ones: lift the guard while it runs
    (the server subprocess keeps it). pytest ends it before a test of another module, so that the loop
    never meets a test that runs its own (async_to_sync); a browser module holds browser tests only.
    """
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            yield playwright


def _until_the_servers_are_done(timeout_s: float = 5.0) -> None:
    """On PostgreSQL, wait (a while at most) until no other session works in the test database: a closed page or
    socket may still be writing through the server (a room's attendance), and the flush that ends the test would
    deadlock with it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return  # SQLite's writers wait for one another
    deadline, quiet = time.monotonic() + timeout_s, 0
    while quiet < 3 and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND state <> 'idle'")
            quiet = 0 if cursor.fetchone()[0] else quiet + 1
        time.sleep(0.05)


@contextmanager
def closing_contexts(chromium):
    """Yield ``chromium``, then close every context (cookies, pages, sockets) opened meanwhile: a browser shared
    by a module's tests leaves nothing of one test to the next."""
    try:
        yield chromium
    finally:
        for context in list(chromium.contexts):
            context.close()
        _until_the_servers_are_done()


@pytest.fixture(scope="module")
def module_chromium(playwright_instance):
    """Debian's Chromium, headless, for one test module."""
    chromium = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()


@pytest.fixture
def browser(module_chromium, transactional_db):
    """Debian's Chromium, headless, as a fresh one to the test: the contexts it opens are closed after it, before
    the database is flushed."""
    with closing_contexts(module_chromium) as chromium:
        yield chromium


@pytest.fixture
def tablet(browser):
    """A fresh 1024x768 browser context (a tablet), closed after the test; open pages with ``new_page()``."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="fr-FR")
    yield context
    context.close()


@pytest.fixture
def login(live_asgi):
    """``login(page, username, password=PASSWORD)``: sign in through the login form and land on the home page."""

    def sign_in(page, username, password=PASSWORD):
        page.goto(live_asgi.url("/accounts/login/"))
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        if "/accounts/login/" in page.url:
            raise AssertionError(f"login failed for {username}: {page.url}")
        return page

    return sign_in


@pytest.fixture
def person(browser, login):
    """``person(username, locale=, width=, height=)``: a signed-in context of its own (own cookies) as
    ``(context, page, errors)``; ``errors`` gathers script errors and console errors but a refused form's 400."""

    def open_context(username, *, locale="fr-FR", width=1024, height=768):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # A refused form answers 400 by design; any other console error is a fault.
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" and "status of 400" not in message.text else None)
        login(page, username)
        return context, page, errors

    return open_context


@pytest.fixture
def screenshot():
    """``screenshot(page, name)``: save a PNG of the viewport under var/screenshots/ and return its path."""

    def take(page, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    return take
