"""Roles grant permission codes; the administrator holds them all."""

import re

import pytest

from caravane.core.access import ROLE_PERMISSIONS, Perm, Role, permissions_of


def role_has_permission(role, permission) -> bool:
    return permission in permissions_of(role)

ADMIN_ONLY = ("accounts.use_admin", "audit.view_auditevent")


def test_every_role_is_mapped_and_every_code_is_well_formed():
    assert set(ROLE_PERMISSIONS) == set(Role.values)
    for codes in ROLE_PERMISSIONS.values():
        for code in codes:
            assert re.fullmatch(r"[a-z_]+\.[a-z_]+", code), code


@pytest.mark.parametrize(("role", "permission", "granted"), [
    ("assistant", "patients.register_patient", True),
    ("assistant", "care.check_in", True),
    ("assistant", "care.record_vitals", False),
    ("assistant", "care.view_chart", False),
    ("nurse", "care.record_vitals", True),
    ("nurse", "patients.change_patient", True),
    ("nurse", "care.consult", False),
    ("nurse", "care.prescribe", False),
    ("gp", "care.consult", True),
    ("gp", "care.prescribe", True),
    ("gp", "telemed.request_act", True),
    ("gp", "telemed.answer_act", False),
    ("specialist", "telemed.answer_act", True),
    ("specialist", "patients.register_patient", False),
    ("pharmacist", "pharmacy.dispense", True),
    ("pharmacist", "care.view_chart", False),
    ("coordinator", "planning.run_plan", True),
    ("coordinator", "patients.register_patient", False),
    ("coordinator", "care.view_chart", False),
])
def test_role_grants(role, permission, granted):
    assert role_has_permission(role, permission) is granted


@pytest.mark.parametrize("permission", ["care.record_vitals", "care.consult", "planning.apply_plan", *ADMIN_ONLY])
def test_administrator_can_do_everything(permission):
    assert role_has_permission(Role.ADMINISTRATOR, permission)


def test_the_vocabulary_is_typed_and_grants_nothing_for_apps_that_do_not_exist():
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert granted <= set(Perm)
    assert {code.split(".")[0] for code in granted} <= {"accounts", "audit", "geo", "network", "patients", "care",
                                                        "telemed", "rooms", "planning", "devices", "diagnostics",
                                                        "pharmacy", "fhir"}
    assert not role_has_permission(Role.ADMINISTRATOR, "anything.made_up")


@pytest.mark.parametrize("permission", ADMIN_ONLY)
def test_only_administrators_reach_the_admin_and_the_audit_trail(permission):
    assert [role for role in Role.values if role_has_permission(role, permission)] == [Role.ADMINISTRATOR]


def test_no_role_and_unknown_roles_grant_nothing():
    assert not role_has_permission(None, "network.view_site")
    assert not role_has_permission("janitor", "network.view_site")


def test_has_perm_follows_the_staff_role(staff_factory):
    nurse = staff_factory(role="nurse").user
    assert nurse.has_perm("care.record_vitals") and not nurse.has_perm("care.consult")
    nurse.is_active = False
    assert not nurse.has_perm("care.record_vitals")


def test_a_user_without_staff_record_has_no_permission(django_user_model, db):
    user = django_user_model.objects.create_user(username="loose", password="caravane-test-pass")
    assert user.role is None
    assert not user.has_perm("network.view_site")
