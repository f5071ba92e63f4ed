"""The Django admin serves administrators only; others get 403 and a denied audit row."""

from django.urls import reverse

from caravane.audit.models import AuditEvent


def test_administrator_opens_the_admin(client, staff_factory):
    admin = staff_factory(role="administrator")
    client.force_login(admin.user)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200


def test_other_roles_get_403_and_a_denied_audit_row(client, staff_factory, site_factory):
    for role in ("assistant", "nurse", "gp", "specialist", "pharmacist", "coordinator"):
        staff = staff_factory(role=role, site=site_factory())
        client.force_login(staff.user)
        response = client.get(reverse("admin:index"), REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 403, role
        assert client.get(reverse("admin:login")).status_code == 403
        event = AuditEvent.objects.filter(actor_id=staff.user.pk, outcome="denied", path="/admin/").first()
        assert event is not None, role
        assert (event.role, event.object_type, event.client_address) == (role, "admin.site", "192.0.2.7")


def test_anonymous_visitors_are_sent_to_the_app_login(client, db):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login")) and "next=/admin/" in response.url


def test_changes_through_the_admin_are_audited(client, staff_factory, django_user_model):
    admin = staff_factory(role="administrator")
    target = staff_factory(role="nurse").user
    client.force_login(admin.user)
    url = reverse("admin:accounts_user_change", args=[target.pk])
    form = {"username": target.username, "first_name": "Amina", "last_name": target.last_name, "email": "",
            "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00",
            "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "08:00:00"}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.first_name == "Amina"
    event = AuditEvent.objects.get(action="change", object_id=str(target.pk))
    assert (event.actor_id, event.detail["via"]) == (admin.user.pk, "admin")
