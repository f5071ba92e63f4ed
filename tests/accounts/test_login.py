"""Login, Argon2 hashing, lockout after repeated failures, unlocking."""

import dataclasses
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from caravane.accounts.models import User
from caravane.audit.models import AuditEvent

PASSWORD = "caravane-test-pass"


@pytest.fixture
def lockout(settings):
    """A short failure limit for the test: three failures lock for ten minutes."""
    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, login_failure_limit=3, login_lockout_seconds=600)
    return settings.CARAVANE


def _login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password},
                       HTTP_ACCEPT_LANGUAGE="en")


def test_passwords_are_stored_with_argon2(settings, staff_factory):
    from caravane import settings as deployment

    settings.PASSWORD_HASHERS = deployment.PASSWORD_HASHERS  # the session hashes with a cheap Argon2
    staff = staff_factory(role="nurse")
    stored = User.objects.get(pk=staff.user.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert PASSWORD not in stored


def test_successful_login_redirects_and_is_audited(client, staff_factory):
    staff = staff_factory(role="gp")
    response = _login(client, staff.user.username, PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("home")
    event = AuditEvent.objects.get(action="login")
    assert (event.actor_id, event.outcome, event.role) == (staff.user.pk, "allowed", "gp")


def test_login_refuses_an_offsite_next_url(client, staff_factory):
    staff = staff_factory(role="gp")
    response = client.post(reverse("accounts:login") + "?next=https://evil.example/x",
                           {"username": staff.user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")


def test_wrong_password_is_refused_counted_and_audited(client, staff_factory, lockout):
    staff = staff_factory(role="nurse")
    response = _login(client, staff.user.username, "wrong-password")
    assert response.status_code == 401
    assert "_auth_user_id" not in client.session
    staff.user.refresh_from_db()
    assert staff.user.failed_login_count == 1 and not staff.user.is_locked()
    event = AuditEvent.objects.get(action="login")
    assert event.outcome == "failed"
    assert event.actor_username == staff.user.username
    assert event.object_id == str(staff.user.pk)
    assert event.client_address == "127.0.0.1"


def test_unknown_username_is_audited_without_an_account(client, db, lockout):
    response = _login(client, "nobody-here", "whatever-pass")
    assert response.status_code == 401
    event = AuditEvent.objects.get(action="login")
    assert (event.outcome, event.actor_username, event.object_id) == ("failed", "nobody-here", "")


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, staff_factory, lockout):
    staff = staff_factory(role="nurse")
    for _ in range(lockout.login_failure_limit):
        _login(client, staff.user.username, "wrong-password")
    staff.user.refresh_from_db()
    assert staff.user.is_locked()
    lock_end = staff.user.locked_until
    assert lock_end - timezone.now() > datetime.timedelta(seconds=590)
    assert AuditEvent.objects.filter(action="lockout", outcome="failed", object_id=str(staff.user.pk)).count() == 1

    response = _login(client, staff.user.username, PASSWORD)
    assert response.status_code == 401
    assert "_auth_user_id" not in client.session
    assert "locked after too many failed logins" in response.content.decode()
    assert timezone.localtime(lock_end).strftime("%H:%M") in response.content.decode()
    denied = AuditEvent.objects.get(action="login", outcome="denied")
    assert denied.detail["reason"] == "locked"
    staff.user.refresh_from_db()
    assert staff.user.locked_until == lock_end, "attempts during a lock must not extend it"


def _record_calls(monkeypatch, name):
    """Record each call to ``User.<name>`` (a password check or a hashing) and let it run."""
    calls = []
    original = getattr(User, name)

    def recorded(user, raw_password):
        calls.append(user.username)
        return original(user, raw_password)

    monkeypatch.setattr(User, name, recorded)
    return calls


def test_a_locked_account_is_refused_without_checking_the_password(client, staff_factory, lockout, monkeypatch):
    staff = staff_factory(role="nurse")
    for _ in range(lockout.login_failure_limit):
        _login(client, staff.user.username, "wrong-password")
    checks = _record_calls(monkeypatch, "check_password")
    assert _login(client, staff.user.username, PASSWORD).status_code == 401
    assert checks == []


def test_an_unknown_username_costs_one_hashing_like_a_real_account(client, staff_factory, lockout, monkeypatch):
    staff = staff_factory(role="nurse")
    checks = _record_calls(monkeypatch, "check_password")
    hashings = _record_calls(monkeypatch, "set_password")
    _login(client, staff.user.username, "wrong-password")
    _login(client, "nobody-here", "wrong-password")
    assert (checks, hashings) == ([staff.user.username], [""])


def test_the_right_password_on_the_last_allowed_attempt_signs_in(client, staff_factory, lockout):
    staff = staff_factory(role="nurse")
    for _ in range(lockout.login_failure_limit - 1):
        _login(client, staff.user.username, "wrong-password")
    assert _login(client, staff.user.username, PASSWORD).status_code == 302
    staff.user.refresh_from_db()
    assert (staff.user.failed_login_count, staff.user.locked_until) == (0, None)
    assert not AuditEvent.objects.filter(action="lockout").exists()


def test_a_blank_field_is_refused_without_counting(client, staff_factory, lockout):
    staff = staff_factory(role="nurse")
    response = _login(client, staff.user.username, "")
    assert response.status_code == 401 and "Wrong username or password." in response.content.decode()
    staff.user.refresh_from_db()
    assert staff.user.failed_login_count == 0


def test_a_deactivated_account_is_refused_even_with_the_right_password(client, staff_factory, lockout):
    staff = staff_factory(role="nurse")
    User.objects.filter(pk=staff.user.pk).update(is_active=False)
    response = _login(client, staff.user.username, PASSWORD)
    assert response.status_code == 401 and "Wrong username or password." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(action="login").outcome == "failed"


def test_lock_expires_and_a_successful_login_resets_the_counter(client, staff_factory, lockout):
    staff = staff_factory(role="nurse")
    for _ in range(lockout.login_failure_limit):
        _login(client, staff.user.username, "wrong-password")
    User.objects.filter(pk=staff.user.pk).update(locked_until=timezone.now() - datetime.timedelta(seconds=1))
    assert _login(client, staff.user.username, PASSWORD).status_code == 302
    staff.user.refresh_from_db()
    assert (staff.user.failed_login_count, staff.user.locked_until) == (0, None)


def test_a_success_between_failures_resets_the_count(client, staff_factory, lockout):
    staff = staff_factory(role="nurse")
    for _ in range(lockout.login_failure_limit - 1):
        _login(client, staff.user.username, "wrong-password")
    assert _login(client, staff.user.username, PASSWORD).status_code == 302
    client.logout()
    _login(client, staff.user.username, "wrong-password")
    staff.user.refresh_from_db()
    assert staff.user.failed_login_count == 1 and not staff.user.is_locked()


def test_first_failure_after_an_expired_lock_starts_a_new_count(client, staff_factory, lockout):
    staff = staff_factory(role="nurse")
    for _ in range(lockout.login_failure_limit):
        _login(client, staff.user.username, "wrong-password")
    User.objects.filter(pk=staff.user.pk).update(locked_until=timezone.now() - datetime.timedelta(seconds=1))
    _login(client, staff.user.username, "wrong-password")
    staff.user.refresh_from_db()
    assert staff.user.failed_login_count == 1 and not staff.user.is_locked()


def test_administrator_unlocks_from_the_admin(client, staff_factory, lockout):
    staff = staff_factory(role="nurse")
    for _ in range(lockout.login_failure_limit):
        _login(client, staff.user.username, "wrong-password")
    admin = staff_factory(role="administrator")
    client.force_login(admin.user)
    changelist = reverse("admin:accounts_user_changelist")
    listing = client.get(changelist + "?locked=yes")
    assert listing.status_code == 200 and staff.user.username in listing.content.decode()
    response = client.post(changelist, {"action": "unlock", "_selected_action": [str(staff.user.pk)]})
    assert response.status_code == 302
    staff.user.refresh_from_db()
    assert (staff.user.failed_login_count, staff.user.locked_until) == (0, None)
    event = AuditEvent.objects.get(action="unlock")
    assert (event.actor_id, event.object_id, event.role) == (admin.user.pk, str(staff.user.pk), "administrator")
    client.logout()
    assert _login(client, staff.user.username, PASSWORD).status_code == 302


def test_logout_is_a_post_and_is_audited(client, staff_factory):
    staff = staff_factory(role="nurse")
    client.force_login(staff.user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response.url == reverse("accounts:login")
    assert AuditEvent.objects.filter(action="logout", actor_id=staff.user.pk).exists()
    assert client.get(reverse("home")).status_code == 302


def test_password_change_asks_the_old_one_keeps_the_session_and_is_audited(client, staff_factory):
    staff = staff_factory(role="nurse")
    client.force_login(staff.user)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200
    refused = client.post(url, {"old_password": "not-my-password", "new_password1": "Tafraout-2026-argan",
                                "new_password2": "Tafraout-2026-argan"})
    assert refused.status_code == 400
    assert User.objects.get(pk=staff.user.pk).check_password(PASSWORD)
    too_short = client.post(url, {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"})
    assert too_short.status_code == 400
    response = client.post(url, {"old_password": PASSWORD, "new_password1": "Tafraout-2026-argan",
                                 "new_password2": "Tafraout-2026-argan"})
    assert response.status_code == 302
    stored = User.objects.get(pk=staff.user.pk)
    assert stored.check_password("Tafraout-2026-argan") and stored.password.startswith("argon2")
    assert AuditEvent.objects.filter(action="change_password", actor_id=staff.user.pk).count() == 1
    assert client.get(url).status_code == 200, "the session survives the change"


def test_admin_password_change_goes_to_the_audited_page(client, staff_factory):
    admin = staff_factory(role="administrator")
    client.force_login(admin.user)
    response = client.get(reverse("admin:password_change"))
    assert response.status_code == 302 and response.url == reverse("accounts:password_change")
