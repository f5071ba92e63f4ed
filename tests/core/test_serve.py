"""`caravane serve`: bounded database connections under load, the reference deployment behind nginx, the
task workers it supervises and the structured access log."""

from __future__ import annotations

import datetime
import gzip
import http.client
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client, override_settings

from caravane.core import server

ROOT = Path(__file__).resolve().parents[2]
# This file's ports: the pool test's server, then the reference deployment's app, nginx HTTPS and HTTP.
POOL_PORT, APP_PORT, NGINX_PORT, NGINX_HTTP_PORT = 8106, 8107, 8108, 8109
APP_NAME = "caravane-serve-test"  # the server's connections are counted by this application_name
START_SECONDS = 60


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is no obstacle
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _environment(**changes) -> dict:
    from tests.telemed.servers import database_url

    env = {name: value for name, value in os.environ.items()
           if name not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "CARAVANE_DEBUG", "CARAVANE_ENV")}
    env.update(DATABASE_URL=database_url(connection.settings_dict), DJANGO_SETTINGS_MODULE="caravane.settings",
               PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), str(ROOT),
                                                                               os.environ.get("PYTHONPATH")])))
    env.update(changes)
    return env


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=45)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def _new_patient(headers) -> str:
    payload = {"given_name": "Yassine", "family_name": "Bouzid", "gender": "male", "birth_year": 1988,
               "confirm_new": True}
    answer = Client().post("/api/patients/", json.dumps(payload), content_type="application/json", headers=headers)
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


@pytest.fixture
def nurse(site_factory, staff_factory, settings):
    """A nurse at a site, committed where a server process sees her, with a bearer token's headers."""
    from caravane.accounts.actions import do_create_api_token

    site = site_factory(name="Centre Alpha")
    staff = staff_factory(role="nurse", site=site, username="nurse_serve")
    _token, raw = do_create_api_token(user=staff.user, name="serve test")
    staff.headers = {"Authorization": f"Bearer {raw}"}
    staff.site = site
    return staff


# --- Connections bounded under load ---------------------------------------------------------------------------

WORKERS, THREADS, POOL_MIN, POOL_MAX, CLIENTS, LOAD_SECONDS = 2, 6, 1, 3, 24, 4


def _count_connections(cursor) -> int:
    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME])
    return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_serve_never_holds_more_connections_than_its_pools_and_keeps_none_after_the_load(nurse, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("connection pooling is PostgreSQL's (SQLite opens a file, not a server connection)")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("two web workers need REDIS_URL")
    if not _free(POOL_PORT):
        pytest.skip(f"port {POOL_PORT} is taken")
    import psycopg

    patient = _new_patient(nurse.headers)
    env = _environment(CARAVANE_DATA_DIR=str(tmp_path), PGAPPNAME=APP_NAME, CARAVANE_WEB_THREADS=str(THREADS),
                       CARAVANE_DB_POOL_MIN=str(POOL_MIN), CARAVANE_DB_POOL_MAX=str(POOL_MAX),
                       CARAVANE_DB_POOL_MAX_IDLE="0.5", CARAVANE_DB_POOL_TIMEOUT="30")
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "caravane.cli", "serve", "--bind", f"127.0.0.1:{POOL_PORT}",
                                    "--workers", str(WORKERS), "--task-workers", "0"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    settings_dict = connection.settings_dict
    watcher = psycopg.connect(host=settings_dict["HOST"] or "localhost", port=settings_dict["PORT"] or 5432,
                              user=settings_dict["USER"], password=settings_dict["PASSWORD"] or None,
                              dbname=settings_dict["NAME"], autocommit=True)
    try:
        _wait_for_health(process, f"http://127.0.0.1:{POOL_PORT}/healthz", log_path)
        statuses: dict[int, int] = {}
        failures: list[str] = []
        samples: list[int] = []
        lock = threading.Lock()
        loading = threading.Event()
        loading.set()

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", POOL_PORT, timeout=60)
            try:
                while loading.is_set():
                    conn.request("GET", f"/api/patients/{patient}", headers=nurse.headers)
                    answer = conn.getresponse()
                    answer.read()
                    with lock:
                        statuses[answer.status] = statuses.get(answer.status, 0) + 1
            except Exception as error:  # a dropped connection is an error answered to a user
                failures.append(repr(error))
            finally:
                conn.close()

        clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in clients:
            thread.start()
        with watcher.cursor() as cursor:
            deadline = time.monotonic() + LOAD_SECONDS
            while time.monotonic() < deadline:
                samples.append(_count_connections(cursor))
                time.sleep(0.05)
            loading.clear()
            for thread in clients:
                thread.join(timeout=60)
            # The pools give back their idle connections beyond the minimum, one per CARAVANE_DB_POOL_MAX_IDLE.
            after = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                after.append(_count_connections(cursor))
                if after[-1] <= WORKERS * POOL_MIN:
                    break
                time.sleep(0.2)
        assert not failures, failures[:3]
        assert set(statuses) == {200}, (statuses, log_path.read_text(errors="replace")[:3000])
        assert sum(statuses.values()) > CLIENTS
        assert max(samples + after) <= WORKERS * POOL_MAX, (max(samples), samples)
        assert after[-1] <= WORKERS * POOL_MIN, after
        # SIGTERM: the server stops cleanly and closes every connection.
        assert _stop(process) == 0, log_path.read_text(errors="replace")
        with watcher.cursor() as cursor:
            assert _count_connections(cursor) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the web workers too, not only their supervisor
            process.wait()
        watcher.close()


def _wait_for_health(process, url: str, log_path: Path, context=None) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer within {START_SECONDS}s:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.2)


# --- The reference deployment: nginx in front ------------------------------------------------------------------

@pytest.fixture
def deployment(tmp_path):
    """deploy/local-up.sh on this file's ports, against the test database; stopped after the test."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (./run.sh test installs Debian's nginx)")
    taken = [port for port in (APP_PORT, NGINX_PORT, NGINX_HTTP_PORT) if not _free(port)]
    if taken:
        pytest.skip(f"ports {taken} are taken")
    key = secrets.token_urlsafe(50)
    env = _environment(PYTHON=sys.executable, CARAVANE_SECRET_KEY=key, CARAVANE_DATA_DIR=str(tmp_path / "data"))
    directory = tmp_path / "deployment"
    result = subprocess.run([str(ROOT / "deploy" / "local-up.sh"), "--port", str(NGINX_PORT), "--http-port",
                             str(NGINX_HTTP_PORT), "--app-port", str(APP_PORT), "--dir", str(directory),
                             "--workers", "1"], env=env, capture_output=True, text=True, timeout=180)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        url = result.stdout.strip().splitlines()[-1].removeprefix("URL=")
        context = ssl.create_default_context(cafile=str(directory / "cert.pem"))
        yield type("Deployment", (), {"url": url, "context": context, "key": key, "dir": directory})
    finally:
        subprocess.run([str(ROOT / "deploy" / "local-up.sh"), "--down", str(directory)], timeout=60)


@pytest.mark.django_db(transaction=True)
def test_the_reference_deployment_serves_pages_static_files_and_websockets_through_nginx(deployment, nurse):
    import websockets.sync.client
    from websockets.exceptions import InvalidStatus

    with urllib.request.urlopen(deployment.url + "/accounts/login/", context=deployment.context) as answer:
        # Production mode redirects plain HTTP to HTTPS: a 200 here means nginx said X-Forwarded-Proto: https.
        assert answer.status == 200
        page = answer.read().decode()
        assert "csrfmiddlewaretoken" in page
    static = "caravane/css/caravane.css"
    with urllib.request.urlopen(f"{deployment.url}/static/{static}", context=deployment.context) as answer:
        assert answer.headers["Server"].startswith("nginx")
        assert answer.headers["Cache-Control"] == "public, max-age=3600"
        assert answer.read() == (ROOT / "src" / "caravane" / "static" / static).read_bytes()
    # Pages link it by its content hash: that name is kept a year, and goes out as collectstatic compressed it.
    hashed = re.search(r"/static/caravane/css/caravane\.[0-9a-f]{12}\.css", page).group(0)
    request = urllib.request.Request(deployment.url + hashed, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, context=deployment.context) as answer:
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert answer.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(answer.read()) == (ROOT / "src" / "caravane" / "static" / static).read_bytes()

    # A signed-in nurse's session, signed with the server's key, opens her site's live queue board.
    client = Client()
    with override_settings(SECRET_KEY=deployment.key):
        client.force_login(nurse.user)
    board = f"/ws/care/queue/{nurse.site.pk}/{datetime.date.today().isoformat()}/"
    wss = deployment.url.replace("https://", "wss://") + board
    origin = {"Origin": deployment.url}
    with websockets.sync.client.connect(wss, ssl=deployment.context, additional_headers={
            **origin, "Cookie": f"sessionid={client.cookies['sessionid'].value}"}) as socket_:
        with pytest.raises(TimeoutError):
            socket_.recv(timeout=1)  # admitted: the socket stays open, waiting for the queue's events
    # Nobody signed in: the app refuses the handshake (it closes before accepting).
    with pytest.raises(InvalidStatus) as refused:
        websockets.sync.client.connect(wss, ssl=deployment.context, additional_headers=origin)
    assert refused.value.response.status_code == 403


# --- Task workers and the access log ---------------------------------------------------------------------------

def test_a_task_worker_that_exits_is_started_again_and_all_stop_with_the_server(monkeypatch):
    monkeypatch.setattr(server, "TASK_RESTART_SECONDS", 0)
    workers = server.TaskWorkers([sys.executable, "-c", "import time; time.sleep(60)"], 2)
    workers.keep()
    first = [entry[0] for entry in workers.slots]
    first[0].kill()
    first[0].wait()
    workers.keep()
    assert workers.slots[0][0] is not first[0] and workers.slots[1][0] is first[1]
    workers.terminate()
    workers.wait()
    assert all(entry[0].returncode is not None for entry in workers.slots)


def test_task_workers_are_started_only_where_a_worker_command_exists(monkeypatch):
    import django.core.management

    monkeypatch.setattr(django.core.management, "get_commands", lambda: {"migrate": "django.core"})
    assert server.task_worker_command() is None
    assert server.TaskWorkers(None, 3).slots == []
    monkeypatch.setattr(django.core.management, "get_commands", lambda: {"worker": "caravane.tasks"})
    assert server.task_worker_command()[-1] == "worker"


@pytest.mark.django_db
def test_the_access_log_writes_one_json_line_per_request_without_raw_ids(settings, caplog, site_factory,
                                                                        staff_factory):
    settings.MIDDLEWARE = ["caravane.core.requestlog.AccessLogMiddleware", *settings.MIDDLEWARE]
    staff = staff_factory(role="nurse", site=site_factory(), username="nurse_log")
    client = Client()
    client.force_login(staff.user)
    access = logging.getLogger("caravane.access")
    access.addHandler(caplog.handler)
    try:
        missing = "0190d1b4-0000-7000-8000-000000000000"
        answer = client.get(f"/api/patients/{missing}", headers={"X-Request-Id": "nginx-abcdef123456"})
        Client().get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    finally:
        access.removeHandler(caplog.handler)
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "caravane.access"]
    assert len(lines) == 2
    first, second = lines
    assert answer["X-Request-Id"] == "nginx-abcdef123456" == first["request_id"]
    assert first["method"] == "GET" and first["status"] == 404 and first["user"] == str(staff.user.pk)
    assert missing not in first["route"] and first["route"].startswith("api/patients/")
    assert first["duration_ms"] >= 0 and datetime.datetime.fromisoformat(first["time"])
    assert second["route"] == "healthz" and len(second["request_id"]) == 32 and second["user"] is None
