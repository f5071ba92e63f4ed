"""API authentication: bearer tokens (hashed, expiring, revocable), the session with CSRF, and 401s."""

import datetime
import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from caravane.accounts.models import ApiToken, User
from caravane.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_unauthenticated_calls_get_401_json(client):
    response = client.get("/api/sites")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bearer_token_authenticates_as_its_user_and_records_last_use(client, network, bearer):
    headers = bearer(network.nurse_a.user)
    token = ApiToken.objects.get(user=network.nurse_a.user)
    assert token.last_used_at is None
    response = client.get("/api/staff", headers=headers)
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert str(network.nurse_a.pk) in ids and str(network.nurse_b.pk) not in ids  # the token carries the user's scope
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_only_the_digest_of_a_token_is_stored(network, bearer):
    raw = bearer(network.nurse_a.user)["Authorization"].removeprefix("Bearer ")
    assert raw.startswith("crv_")
    token = ApiToken.objects.get(user=network.nurse_a.user)
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    stored = {field.attname: getattr(token, field.attname) for field in ApiToken._meta.fields}
    assert raw not in {str(value) for value in stored.values()}


@pytest.mark.parametrize("header", ["Bearer crv_not-a-real-token", "Bearer something-else", "Basic dXNlcjpwYXNz"])
def test_unknown_tokens_are_refused(client, network, header):
    assert client.get("/api/sites", headers={"Authorization": header}).status_code == 401


def test_revoked_token_is_refused(client, network, bearer):
    from caravane.accounts.actions import do_revoke_api_token

    headers = bearer(network.nurse_a.user)
    assert client.get("/api/sites", headers=headers).status_code == 200
    token = ApiToken.objects.get(user=network.nurse_a.user)
    do_revoke_api_token(actor=network.nurse_a.user, token=token)
    response = client.get("/api/sites", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_expired_token_is_refused(client, network, bearer):
    headers = bearer(network.nurse_a.user, expires_at=timezone.now() + datetime.timedelta(minutes=5))
    assert client.get("/api/sites", headers=headers).status_code == 200
    ApiToken.objects.filter(user=network.nurse_a.user).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get("/api/sites", headers=headers).status_code == 401


@pytest.mark.parametrize("stop, restart", [
    ({"is_active": False}, {"is_active": True}),
    ({"locked_until": timezone.now() + datetime.timedelta(minutes=15)}, {"locked_until": None}),
], ids=["deactivated", "locked"])
def test_token_stops_while_its_user_is_deactivated_or_locked(client, network, bearer, stop, restart):
    headers = bearer(network.nurse_a.user)
    assert client.get("/api/sites", headers=headers).status_code == 200
    User.objects.filter(pk=network.nurse_a.user.pk).update(**stop)
    assert client.get("/api/sites", headers=headers).status_code == 401
    User.objects.filter(pk=network.nurse_a.user.pk).update(**restart)
    assert client.get("/api/sites", headers=headers).status_code == 200


def test_token_stops_when_failed_logins_lock_its_user_and_works_after_unlock(client, network, bearer, settings):
    from caravane.accounts.actions import do_unlock_user

    headers = bearer(network.nurse_a.user)
    for _ in range(settings.CARAVANE.login_failure_limit):
        client.post("/accounts/login/", {"username": "nurse_a", "password": "wrong-password"})
    assert client.get("/api/sites", headers=headers).status_code == 401
    do_unlock_user(actor=network.gp_a.user, user=network.nurse_a.user)
    assert client.get("/api/sites", headers=headers).status_code == 200


def test_session_authenticates_reads(client, network):
    client.force_login(network.gp_a.user)
    response = client.get(f"/api/sites/{network.site_a.pk}")
    assert response.status_code == 200
    assert response.json()["name"] == "Centre Alpha"


def test_unsafe_session_calls_need_the_csrf_token(network):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(network.gp_a.user)
    refused = browser.post("/api/tokens", {"name": "laptop script"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not ApiToken.objects.filter(user=network.gp_a.user).exists()

    browser.get("/accounts/login/")  # any page that renders a form sets the csrftoken cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post("/api/tokens", {"name": "laptop script"}, content_type="application/json",
                            headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201, accepted.content


def test_bearer_clients_are_not_subject_to_csrf(network, bearer):
    machine = Client(enforce_csrf_checks=True)
    headers = bearer(network.gp_a.user)
    # Token management is for people (session only): a token cannot mint tokens.
    assert machine.post("/api/tokens", {"name": "x"}, content_type="application/json",
                        headers=headers).status_code == 401
    assert machine.get("/api/sites", headers=headers).status_code == 200


def test_token_lifecycle_through_the_api(client, network):
    client.force_login(network.gp_a.user)
    created = client.post("/api/tokens", {"name": "  regional dashboard ", "expires_in_days": 30},
                          content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    raw = body["token"]
    assert raw.startswith("crv_") and body["name"] == "regional dashboard" and body["usable"] is True
    expires = datetime.datetime.fromisoformat(body["expires_at"])
    assert abs((expires - timezone.now()) - datetime.timedelta(days=30)) < datetime.timedelta(minutes=1)
    assert AuditEvent.objects.filter(action="create", object_type="accounts.apitoken", object_id=body["id"]).exists()

    listed = client.get("/api/tokens").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert "token" not in listed["results"][0]  # the raw value is shown once

    machine = Client()
    assert machine.get("/api/sites", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    revoked = client.post(f"/api/tokens/{body['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] and not revoked.json()["usable"]
    assert machine.get("/api/sites", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_tokens_are_private_to_their_owner(client, network, bearer):
    bearer(network.gp_b.user, name="other person's")
    other = ApiToken.objects.get(user=network.gp_b.user)
    client.force_login(network.gp_a.user)
    assert client.get("/api/tokens").json()["count"] == 0
    response = client.post(f"/api/tokens/{other.pk}/revoke")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="revoke", outcome="denied", actor=network.gp_a.user,
                                     object_id=str(other.pk)).exists()
    other.refresh_from_db()
    assert other.revoked_at is None


@pytest.mark.parametrize("payload, field", [({"name": ""}, "name"), ({"name": "   "}, "name"),
                                            ({"name": "x", "expires_in_days": 0}, "expires_in_days"),
                                            ({"name": "x", "expires_in_days": 4000}, "expires_in_days"),
                                            ({}, "name")])
def test_bad_token_requests_name_the_field_and_create_nothing(client, network, payload, field):
    client.force_login(network.gp_a.user)
    response = client.post("/api/tokens", payload, content_type="application/json")
    assert response.status_code == 422
    assert field in {error["field"] for error in response.json()["errors"]}
    assert not ApiToken.objects.exists()


def test_management_command_issues_a_working_token(client, network):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "nurse_b", "--name", "province dashboard", "--days", "7", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("crv_") and "shown once" in err.getvalue()
    token = ApiToken.objects.get(user=network.nurse_b.user)
    assert token.name == "province dashboard"
    assert datetime.timedelta(days=6) < token.expires_at - timezone.now() <= datetime.timedelta(days=7)
    response = client.get("/api/staff", headers={"Authorization": f"Bearer {raw}"})
    assert str(network.nurse_b.pk) in {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("args, message", [(["ghost", "--name", "x"], "No user"),
                                           (["nurse_a", "--name", " "], "--name"),
                                           (["nurse_a", "--name", "x", "--days", "0"], "--days")])
def test_management_command_refuses_bad_input(network, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()
