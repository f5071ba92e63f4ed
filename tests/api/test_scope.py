"""Scope through the API: staff reads stay within the caller's sites or territory; refusals are 403 and audited."""

import pytest

from caravane.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

CLIENT_ADDRESS = "10.20.30.40"


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_nurse_cannot_read_another_sites_staff(client, network, bearer):
    response = client.get(f"/api/sites/{network.site_b.pk}/staff", headers=bearer(network.nurse_a.user),
                          REMOTE_ADDR=CLIENT_ADDRESS)
    assert response.status_code == 403
    assert response.json()["detail"]
    assert str(network.nurse_b.pk) not in response.content.decode()
    denied = AuditEvent.objects.get(outcome=AuditEvent.Outcome.DENIED)
    assert denied.actor_id == network.nurse_a.user.pk
    assert denied.actor_username == "nurse_a"
    assert denied.role == "nurse"
    assert (denied.object_type, denied.object_id) == ("network.site", str(network.site_b.pk))
    assert denied.client_address == CLIENT_ADDRESS
    assert denied.path == f"/api/sites/{network.site_b.pk}/staff"


def test_nurse_reads_own_sites_staff_and_the_read_is_audited(client, network, bearer):
    response = client.get(f"/api/sites/{network.site_a.pk}/staff", headers=bearer(network.nurse_a.user))
    assert _ids(response) == {str(network.nurse_a.pk), str(network.gp_a.pk)}
    allowed = AuditEvent.objects.get(object_id=str(network.site_a.pk))
    assert (allowed.outcome, allowed.action, allowed.actor_id) == ("allowed", "view_staff", network.nurse_a.user.pk)


def test_staff_detail_out_of_scope_is_403_and_audited(client, network, bearer):
    response = client.get(f"/api/staff/{network.gp_b.pk}", headers=bearer(network.nurse_a.user),
                          REMOTE_ADDR=CLIENT_ADDRESS)
    assert response.status_code == 403
    assert response.json()["detail"]
    assert "REG" not in response.content.decode()
    denied = AuditEvent.objects.get(object_type="network.staffmember", object_id=str(network.gp_b.pk))
    assert (denied.outcome, denied.actor_id, denied.role, denied.client_address) == (
        "denied", network.nurse_a.user.pk, "nurse", CLIENT_ADDRESS)


def test_allowed_staff_detail_reads_are_audited(client, network, bearer):
    response = client.get(f"/api/staff/{network.gp_a.pk}", headers=bearer(network.nurse_a.user),
                          REMOTE_ADDR=CLIENT_ADDRESS)
    assert response.status_code == 200
    body = response.json()
    assert body["registration_number"] == network.gp_a.registration_number
    assert [a["site"]["id"] for a in body["assignments"]] == [str(network.site_a.pk)]
    read = AuditEvent.objects.get(object_type="network.staffmember", object_id=str(network.gp_a.pk))
    assert (read.outcome, read.action, read.actor_id, read.client_address) == (
        "allowed", "view", network.nurse_a.user.pk, CLIENT_ADDRESS)


def test_staff_list_is_limited_to_the_callers_sites_and_audited(client, network, bearer):
    ids = _ids(client.get("/api/staff", headers=bearer(network.gp_b.user)))
    assert ids == {str(network.nurse_b.pk), str(network.gp_b.pk)}
    assert AuditEvent.objects.filter(action="list", object_type="network.staffmember",
                                     actor=network.gp_b.user.pk).count() == 1


def test_province_coordinator_sees_only_that_provinces_staff(client, network, staff_factory, site_factory, bearer):
    from caravane.geo.models import Province

    coordinator = staff_factory(role="coordinator", coverage_province=Province.objects.get(code="98.002"))
    second_b = site_factory(name="Dispensaire Beta 2", commune=network.commune_b)
    nurse_b2 = staff_factory(role="nurse", site=second_b)
    headers = bearer(coordinator.user)
    ids = _ids(client.get("/api/staff?page_size=200", headers=headers))
    assert ids == {str(network.nurse_b.pk), str(network.gp_b.pk), str(nurse_b2.pk), str(coordinator.pk)}
    assert client.get(f"/api/staff/{network.gp_b.pk}", headers=headers).status_code == 200
    assert client.get(f"/api/staff/{network.gp_a.pk}", headers=headers).status_code == 403
    assert client.get(f"/api/sites/{network.site_a.pk}/staff", headers=headers).status_code == 403
    assert _ids(client.get(f"/api/sites/{second_b.pk}/staff", headers=headers)) == {str(nurse_b2.pk)}


def test_national_coordinator_sees_everyone(client, network, staff_factory, bearer):
    coordinator = staff_factory(role="coordinator")
    ids = _ids(client.get("/api/staff", headers=bearer(coordinator.user)))
    assert {str(s.pk) for s in (network.nurse_a, network.gp_a, network.nurse_b, network.gp_b)} <= ids


def test_past_assignments_do_not_grant_scope(client, network, bearer):
    import datetime

    network.nurse_a.assignments.update(end_date=datetime.date.today() - datetime.timedelta(days=1))
    response = client.get(f"/api/sites/{network.site_a.pk}/staff", headers=bearer(network.nurse_a.user))
    assert response.status_code == 403


def test_login_without_a_role_reads_nothing(client, network, bearer, django_user_model):
    user = django_user_model.objects.create_user(username="no_role", password="caravane-test-pass")
    headers = bearer(user)
    response = client.get("/api/sites", headers=headers)
    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor=user.pk, outcome="denied", object_type="network.site").exists()
    assert client.get(f"/api/staff/{network.gp_a.pk}", headers=headers).status_code == 403
