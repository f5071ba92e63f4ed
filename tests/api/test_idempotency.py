"""Creating requests sent with an Idempotency-Key: a retry gets the first answer back instead of a duplicate,
including after the server was killed around its commit."""

from __future__ import annotations

import datetime
import json
import signal
import socket
import sqlite3
import threading
import time
import uuid
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.client import encode_multipart
from django.utils import timezone

from caravane.core.idempotency import HEADER, REPLAYED_HEADER, delete_expired
from caravane.core.models import IdempotentRequest
from caravane.patients.models import Patient

PATIENTS = "/api/patients/"
CREATING_OPERATIONS = [("/api/patients/", "post"), ("/api/care/encounters", "post"),
                       ("/api/care/encounters/{pk}/observations", "post"), ("/api/telemed/service-requests", "post"),
                       ("/api/telemed/service-requests/{pk}/communications", "post")]


def new_patient(**overrides):
    return {"given_name": "Yassine", "family_name": "Bouzid", "gender": "male", "birth_year": 1988,
            "confirm_new": True, **overrides}


def post(client, headers, path, payload, key=None):
    if key is not None:
        headers = {**headers, HEADER: key}
    return client.post(path, json.dumps(payload), content_type="application/json", headers=headers)


@pytest.fixture
def nurse(network, bearer):
    """Headers of nurse_a's bearer token."""
    return bearer(network.nurse_a.user)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_first_answer(client, network, nurse):
    from caravane.audit.models import AuditEvent

    first = post(client, nurse, PATIENTS, new_patient(), key="register-yassine-1")
    again = post(client, nurse, PATIENTS, new_patient(), key="register-yassine-1")
    assert first.status_code == again.status_code == 201, again.content
    assert REPLAYED_HEADER not in first and again[REPLAYED_HEADER] == "true"
    assert again.json() == first.json()
    assert again["Content-Type"] == first["Content-Type"]
    assert Patient.objects.count() == 1
    assert AuditEvent.objects.filter(action="register").count() == 1
    stored = IdempotentRequest.objects.get()
    assert (stored.user, stored.key, stored.route) == (network.nurse_a.user, "register-yassine-1", f"POST {PATIENTS}")
    assert (stored.response_status, stored.response_body["id"]) == (201, first.json()["id"])


@pytest.mark.django_db
def test_a_key_used_for_a_different_request_is_refused_and_changes_nothing(client, network, nurse):
    assert post(client, nurse, PATIENTS, new_patient(), key="k-1").status_code == 201
    response = post(client, nurse, PATIENTS, new_patient(given_name="Omar"), key="k-1")
    assert response.status_code == 422
    body = response.json()
    assert HEADER in body["detail"] and body["errors"][0]["field"] == HEADER
    assert list(Patient.objects.values_list("given_name", flat=True)) == ["Yassine"]


@pytest.mark.django_db
def test_the_same_json_differently_spaced_and_ordered_is_the_same_request(client, network, nurse):
    first = post(client, nurse, PATIENTS, new_patient(), key="k-2")
    spaced = json.dumps(dict(reversed(list(new_patient().items()))), indent=2)
    again = client.post(PATIENTS, spaced, content_type="application/json", headers={**nurse, HEADER: "k-2"})
    assert again.status_code == 201 and again[REPLAYED_HEADER] == "true"
    assert again.json()["id"] == first.json()["id"] and Patient.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_user_and_per_route(client, network, nurse, bearer):
    first = post(client, nurse, PATIENTS, new_patient(), key="shared-key")
    other_user = post(client, bearer(network.nurse_b.user), PATIENTS, new_patient(), key="shared-key")
    assert other_user.status_code == 201 and REPLAYED_HEADER not in other_user
    assert other_user.json()["id"] != first.json()["id"]
    assert Patient.objects.count() == 2


@pytest.mark.django_db
def test_a_refused_request_keeps_nothing_so_the_corrected_one_may_reuse_its_key(client, network, nurse):
    bad = post(client, nurse, PATIENTS, new_patient(gender="unknown-gender"), key="k-3")
    assert bad.status_code == 400 and not IdempotentRequest.objects.exists()
    post(client, nurse, PATIENTS, new_patient(), key="k-4")
    # Look-alikes (409) are a refusal too: the confirmation goes with the same key.
    look_alike = post(client, nurse, PATIENTS, new_patient(confirm_new=False), key="k-5")
    assert look_alike.status_code == 409
    confirmed = post(client, nurse, PATIENTS, new_patient(), key="k-5")
    assert confirmed.status_code == 201 and REPLAYED_HEADER not in confirmed
    assert Patient.objects.count() == 2


@pytest.mark.django_db
def test_a_refused_caller_is_still_audited(client, network, bearer, staff_factory):
    from caravane.audit.models import AuditEvent

    pharmacist = staff_factory(role="pharmacist", site=network.site_a).user
    response = post(client, bearer(pharmacist), PATIENTS, new_patient(), key="k-6")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor=pharmacist, outcome=AuditEvent.Outcome.DENIED).exists()
    assert not IdempotentRequest.objects.exists() and not Patient.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é-accent"])
def test_an_invalid_key_is_refused(client, network, nurse, key):
    response = post(client, nurse, PATIENTS, new_patient(), key=key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == HEADER
    assert not Patient.objects.exists()


@pytest.mark.django_db
def test_the_longest_key_is_accepted(client, network, nurse):
    assert post(client, nurse, PATIENTS, new_patient(), key="k" * 255).status_code == 201


@pytest.mark.django_db
def test_keys_expire_after_a_day(client, network, nurse):
    first = post(client, nurse, PATIENTS, new_patient(), key="k-7")
    post(client, nurse, PATIENTS, new_patient(given_name="Omar"), key="k-8")
    IdempotentRequest.objects.filter(key="k-7").update(
        created_at=IdempotentRequest.objects.get(key="k-7").created_at - datetime.timedelta(hours=25))
    assert delete_expired() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["k-8"]
    later = post(client, nurse, PATIENTS, new_patient(), key="k-7")
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]


@pytest.mark.django_db
def test_an_action_stays_durable_outside_a_keyed_request(network):
    from caravane.patients.actions import do_register_patient

    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        do_register_patient(actor=network.nurse_a.user, registration_site=network.site_a,
                            data={"given_name": "Nested", "gender": "female"})


@pytest.mark.django_db
def test_every_creating_operation_documents_the_header(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path, method in CREATING_OPERATIONS:
        operation = paths[path][method]
        assert HEADER in [parameter["name"] for parameter in operation["parameters"]], path
        assert REPLAYED_HEADER in operation["responses"]["201"]["headers"], path
        assert HEADER in operation["responses"]["422"]["description"], path


# --- Visits, vital signs, telemedicine acts and messages -----------------------------------------------------

@pytest.fixture
def clinic(network, bearer, staff_factory):
    """A patient checked in at site A with the nurse, a cardiology hub, and the spoke GP's consent to ask."""
    from caravane.network.models import Specialty
    from caravane.patients.actions import do_record_consent, do_register_patient

    cardiology = Specialty.objects.create(code="cardiology", name_fr="Cardiologie", name_ar="قلب",
                                          name_en="Cardiology")
    network.hub.specialties.add(cardiology)
    gp = network.gp_a.user
    patient = do_register_patient(actor=gp, registration_site=network.site_a,
                                  data={"given_name": "Itto", "family_name": "Ouchen", "gender": "female",
                                        "birth_date": datetime.date(1975, 3, 2)})
    do_record_consent(actor=gp, patient=patient, acts=["teleconsultation"], method="signed_paper",
                      period_start=datetime.date.today() - datetime.timedelta(days=1), site=network.site_a)
    return SimpleNamespace(patient=patient, gp=bearer(gp), nurse=bearer(network.nurse_a.user))


def _twice(client, headers, path, payload, key):
    first, again = (post(client, headers, path, payload, key=key) for _ in range(2))
    assert first.status_code == again.status_code == 201, again.content
    assert again[REPLAYED_HEADER] == "true" and again.json() == first.json()
    return first.json()


@pytest.mark.django_db
def test_a_check_in_and_its_vital_signs_are_recorded_once(client, network, clinic):
    from caravane.care.actions import do_advance
    from caravane.care.models import Encounter, Observation

    visit = _twice(client, clinic.nurse, "/api/care/encounters",
                   {"patient": str(clinic.patient.pk), "site": str(network.site_a.pk)}, key="check-in")
    assert Encounter.objects.count() == 1
    do_advance(actor=network.nurse_a.user, encounter=Encounter.objects.get(), to="with_nurse")
    signs = _twice(client, clinic.nurse, f"/api/care/encounters/{visit['id']}/observations",
                   {"systolic": "128", "diastolic": "82"}, key="vitals")
    assert len(signs) == 2 and Observation.objects.count() == 2


@pytest.mark.django_db
def test_a_telemedicine_act_and_a_message_are_created_once(client, network, clinic, tmp_path, settings):
    from caravane.care.actions import do_check_in
    from caravane.telemed.models import Communication, ServiceRequest

    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "media"}}}
    visit = do_check_in(actor=network.nurse_a.user, patient=clinic.patient, site=network.site_a)
    act = _twice(client, clinic.gp, "/api/telemed/service-requests",
                 {"encounter": str(visit.pk), "kind": "teleconsultation", "specialty": "cardiology",
                  "priority": "routine", "question": "Hypertension resistant to two drugs"}, key="act")
    assert ServiceRequest.objects.count() == 1
    path = f"/api/telemed/service-requests/{act['id']}/communications"
    fields = {"text": "ECG attached", "category": "ecg"}

    upload = tmp_path / "ecg.pdf"
    upload.write_bytes(b"%PDF-1.4\n" + b"0" * 64 + b"\n%%EOF")

    def send(boundary):
        with upload.open("rb") as file:
            body = encode_multipart(boundary, {**fields, "files": file})
        return client.post(path, body, content_type=f"multipart/form-data; boundary={boundary}",
                           headers={**clinic.gp, HEADER: "message"})

    # A retry re-encodes its form with another boundary: the same fields and files are the same request.
    first, again = send("first-boundary"), send("second-boundary")
    assert first.status_code == again.status_code == 201, again.content
    assert again[REPLAYED_HEADER] == "true" and again.json() == first.json()
    assert Communication.objects.count() == 1
    fields["text"] = "Another text"
    assert send("third-boundary").status_code == 422


# --- Concurrent requests and killed servers -------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_create_one_patient(network, bearer):
    from caravane.accounts.models import ApiToken

    headers = {**bearer(network.nurse_a.user), HEADER: "concurrent"}
    # A token just used is not written to again, so the two requests do not queue on its row.
    ApiToken.objects.update(last_used_at=timezone.now())
    answers = []

    def send():
        try:
            answers.append(Client().post(PATIENTS, json.dumps(new_patient()), content_type="application/json",
                                         headers=headers))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Hold the first request inside its transaction (at its audit row) until the second one is
            # waiting on the key's unique index; SQLite lets one writer at a time in anyway.
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE audit_auditevent IN SHARE MODE")
        for thread in threads:
            thread.start()
        if connection.vendor == "postgresql":
            _wait_for(lambda: _waiting_locks() == 2)
    for thread in threads:
        thread.join(timeout=60)
    assert [answer.status_code for answer in answers] == [201, 201], [a.content for a in answers]
    assert sorted(REPLAYED_HEADER in answer for answer in answers) == [False, True]
    assert answers[0].json() == answers[1].json()
    assert Patient.objects.count() == 1 and IdempotentRequest.objects.count() == 1


def _waiting_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


class KilledServer:
    """A Caravane server in a subprocess on a copy of the test database (SQLite) or on the test database itself
    (PostgreSQL), that the test kills with SIGKILL and starts again."""

    def __init__(self, tmp_path: Path):
        from tests.telemed import servers

        self.servers = servers
        self.tmp_path = tmp_path
        self.env = {"CARAVANE_DATA_DIR": str(tmp_path)}
        if connection.vendor == "postgresql":
            self.env["DATABASE_URL"] = servers.database_url(connection.settings_dict)
        else:
            # The server opens <data dir>/caravane.sqlite3: a consistent copy of what the test committed.
            with sqlite3.connect(connection.settings_dict["NAME"]) as source, \
                    sqlite3.connect(tmp_path / "caravane.sqlite3") as copy:
                source.backup(copy)
        self.server = None

    def start(self):
        (self.server,) = self.servers.start(1, env=self.env, log_dir=self.tmp_path)
        return self.server

    def kill(self):
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait(timeout=10)
        assert self.server.process.returncode == -signal.SIGKILL

    def stop(self):
        if self.server is not None and self.server.process.poll() is None:
            self.servers.stop([self.server])

    def value(self, sql: str):
        """The one value that ``sql`` selects in the database the server writes to, as committed."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone()[0]
        with sqlite3.connect(self.tmp_path / "caravane.sqlite3") as database:
            return database.execute(sql).fetchone()[0]


def _send_without_reading(server, token: str, body: bytes, key: str) -> socket.socket:
    """Send a POST to the server and leave its answer unread, like a client whose connection drops."""
    request = (f"POST {PATIENTS} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {token}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{HEADER}: {key}\r\n"
               f"Connection: close\r\n\r\n").encode() + body
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(request)
    return sock


def _retry(server, token: str, body: bytes, key: str):
    request = urllib.request.Request(server.base_url + PATIENTS, data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", HEADER: key})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers.get(REPLAYED_HEADER), json.loads(response.read())


def _wait_for(condition, seconds: float = 10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the server did not get there in time"
        time.sleep(0.02)


@pytest.fixture
def killable(transactional_db, network, tmp_path):
    from caravane.accounts.actions import do_create_api_token

    _token, raw = do_create_api_token(user=network.nurse_a.user, name="killed server test")
    server = KilledServer(tmp_path)
    yield server, raw
    server.stop()


def test_a_patient_committed_by_a_server_killed_before_answering_is_replayed_to_the_retry(killable):
    server, token = killable
    body = json.dumps(new_patient()).encode()
    sock = _send_without_reading(server.start(), token, body, "killed-after-commit")
    try:
        _wait_for(lambda: server.value("SELECT count(*) FROM core_idempotentrequest "
                                       "WHERE response_status IS NOT NULL") == 1)
        server.kill()
    finally:
        sock.close()
    assert server.value("SELECT count(*) FROM patients_patient") == 1
    status, replayed, created = _retry(server.start(), token, body, "killed-after-commit")
    assert (status, replayed) == (201, "true")
    assert server.value("SELECT count(*) FROM patients_patient") == 1
    assert uuid.UUID(str(server.value("SELECT id FROM patients_patient"))) == uuid.UUID(created["id"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes nothing before its one writer commits")
def test_a_server_killed_inside_its_transaction_leaves_nothing_and_the_retry_creates_once(killable):
    server, token = killable
    body = json.dumps(new_patient()).encode()
    waiting = ("SELECT count(*) FROM pg_locks WHERE NOT granted "
               "AND relation = 'audit_auditevent'::regclass")
    with transaction.atomic():
        # The server inserts the patient and the key's row, then waits here to write its audit row.
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE audit_auditevent IN SHARE MODE")
        sock = _send_without_reading(server.start(), token, body, "killed-before-commit")
        try:
            _wait_for(lambda: server.value(waiting) == 1)
            server.kill()
        finally:
            sock.close()
    assert server.value("SELECT count(*) FROM patients_patient") == 0
    assert server.value("SELECT count(*) FROM core_idempotentrequest") == 0
    status, replayed, created = _retry(server.start(), token, body, "killed-before-commit")
    assert (status, replayed) == (201, None)
    assert server.value("SELECT count(*) FROM patients_patient") == 1
