"""The lockout holds under parallel guesses: attempts are counted before the slow password check."""

import dataclasses
import threading
import time

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from caravane.accounts.models import User
from caravane.audit.models import AuditEvent

PASSWORD = "caravane-test-pass"
LIMIT = 3
WRONG_GUESSES = 11
HASH_SECONDS = 0.2  # long enough that every wrong guess is in flight while the others arrive


@pytest.fixture
def slow_counted_checks(settings, monkeypatch):
    """Make password checks slow, like Argon2 under load, and record each one; an event fires at the LIMIT-th."""
    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, login_failure_limit=LIMIT, login_lockout_seconds=600)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the sleep stands for Argon2
    checks, limit_reached = [], threading.Event()
    original = User.check_password

    def check_password(user, raw_password):
        checks.append(raw_password)
        if len(checks) >= LIMIT:
            limit_reached.set()
        time.sleep(HASH_SECONDS)
        return original(user, raw_password)

    monkeypatch.setattr(User, "check_password", check_password)
    return checks, limit_reached


def _post_login(username, password, responses, start=None):
    try:
        if start is not None:
            start()
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        response = client.post(reverse("accounts:login"), {"username": username, "password": password})
        responses.append((password, response.status_code, response.content.decode(), "_auth_user_id" in client.session))
    finally:
        connections.close_all()  # each thread has its own connection; leave none open on the test database


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_get_at_most_the_limit_of_password_checks(staff_factory, slow_counted_checks):
    checks, limit_reached = slow_counted_checks
    username = staff_factory(role="nurse").user.username
    responses = []
    barrier = threading.Barrier(WRONG_GUESSES)
    threads = [threading.Thread(target=_post_login, args=(username, f"wrong-guess-{n}", responses, barrier.wait))
               for n in range(WRONG_GUESSES)]
    # The right password arrives once the limit is used up, while the wrong guesses are still being hashed.
    threads.append(threading.Thread(target=_post_login, args=(username, PASSWORD, responses,
                                                              lambda: limit_reached.wait(timeout=10))))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(responses) == WRONG_GUESSES + 1

    assert len(checks) == LIMIT, f"{len(checks)} password checks for a limit of {LIMIT}"
    assert PASSWORD not in checks
    assert all(status == 401 and not signed_in for _, status, _, signed_in in responses)
    right = next(content for password, _, content, _ in responses if password == PASSWORD)
    assert "locked after too many failed logins" in right
    user = User.objects.get(username=username)
    assert user.is_locked() and user.failed_login_count == LIMIT
    audit = AuditEvent.objects.filter(object_id=str(user.pk))
    assert audit.filter(action="lockout", outcome="failed").count() == 1
    assert audit.filter(action="login", outcome="failed").count() == LIMIT - 1
    assert audit.filter(action="login", outcome="denied").count() == WRONG_GUESSES + 1 - LIMIT
    assert not audit.filter(outcome="allowed").exists()
