"""The network in the admin: administrators browse it; reference data only is edited there."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.fixture
def admin_client_for(client, staff_factory):
    def login(role):
        staff = staff_factory(role=role)
        client.force_login(staff.user)
        return client
    return login


@pytest.mark.parametrize("model", ["site", "deployment", "staffmember", "assignment", "specialty", "devicekind"])
def test_administrator_browses_the_network(admin_client_for, pyramid, model):
    client = admin_client_for("administrator")
    assert client.get(reverse(f"admin:network_{model}_changelist")).status_code == 200


def test_network_rows_are_read_only_in_the_admin(admin_client_for, pyramid):
    client = admin_client_for("administrator")
    assert client.get(reverse("admin:network_site_add")).status_code == 403
    page = client.get(reverse("admin:network_site_change", args=[pyramid["unit"].pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.get(reverse("admin:network_specialty_add")).status_code == 200


def test_other_roles_are_refused(admin_client_for):
    client = admin_client_for("coordinator")
    assert client.get(reverse("admin:network_site_changelist")).status_code == 403
