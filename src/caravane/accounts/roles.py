"""What each role may do. Roles map to permission codes; scope is handled separately."""

from caravane.network.models import Role

# Permission codes are "<app>.<verb>_<thing>". The administrator holds every permission.
# Some codes belong to no other role, so only administrators hold them: "accounts.use_admin" (the Django
# admin: reference data, accounts, unlocking), "audit.view_auditevent" (the audit trail and its export).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMINISTRATIVE_ASSISTANT: frozenset({
        "network.view_site", "network.view_staff", "geo.view_geography",
        "patients.view_patient", "patients.register_patient", "patients.change_patient",
        "patients.record_consent", "care.check_in", "care.view_queue",
    }),
    Role.NURSE: frozenset({
        "network.view_site", "network.view_staff", "geo.view_geography",
        # Often alone at a rural centre, the nurse registers patients and corrects their details too.
        "patients.view_patient", "patients.register_patient", "patients.change_patient", "patients.record_consent",
        "care.check_in", "care.view_queue", "care.record_vitals", "care.view_chart",
        "pharmacy.dispense",
    }),
    Role.GP: frozenset({
        "network.view_site", "network.view_staff", "geo.view_geography",
        "patients.view_patient", "patients.register_patient", "patients.change_patient",
        "patients.record_consent", "patients.merge_patient",
        "care.check_in", "care.view_queue", "care.record_vitals", "care.view_chart", "care.consult",
        "care.prescribe", "telemed.request_act", "telemed.view_act",
    }),
    Role.SPECIALIST: frozenset({
        "network.view_site", "network.view_staff", "geo.view_geography",
        "patients.view_patient", "care.view_chart", "care.prescribe",
        "telemed.view_act", "telemed.answer_act", "telemed.manage_roster",
    }),
    Role.PHARMACIST: frozenset({
        "network.view_site", "network.view_staff", "geo.view_geography",
        "patients.view_patient", "pharmacy.dispense", "pharmacy.manage_stock",
    }),
    Role.COORDINATOR: frozenset({
        "network.view_site", "network.view_staff", "network.change_staff", "network.change_site",
        "geo.view_geography", "telemed.view_act", "telemed.reassign_act", "telemed.view_indicators",
        "planning.view_plan", "planning.run_plan", "planning.apply_plan", "reporting.view_indicators",
        "patients.view_patient", "patients.merge_patient",
    }),
    Role.ADMINISTRATOR: frozenset(),
}


def role_has_permission(role: str | None, permission: str) -> bool:
    """Whether a role grants a permission code."""
    if role == Role.ADMINISTRATOR:
        return True
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
