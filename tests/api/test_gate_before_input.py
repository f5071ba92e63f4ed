"""The gate is asked before an API operation reads its input: a refused caller learns nothing about it."""

import pytest

from caravane.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

# Operations that concern no protected data: a caller's own tokens, the ICD-10 catalogue and the coded allergens.
UNGATED = {"list_tokens", "create_token", "revoke_token", "search_icd10", "list_allergens"}


def test_every_api_operation_declares_its_gate():
    from caravane.api import api

    def rule_of(view):
        while view is not None and not hasattr(view, "gate_rule"):
            view = getattr(view, "__wrapped__", None)
        return view is not None

    missing = [f"{','.join(op.methods)} {prefix}{path}" for prefix, router in api._routers
               for path, view in router.path_operations.items() for op in view.operations
               if not rule_of(op.view_func) and op.view_func.__name__ not in UNGATED]
    assert missing == [], "declare the gate with @gate.before_input(...) on: " + ", ".join(missing)


def test_a_role_without_the_permission_is_refused_before_its_body_is_validated(client, network, bearer,
                                                                                 staff_factory):
    pharmacist = staff_factory(role="pharmacist", site=network.site_a)
    # An invalid body (no names, a bad gender) from a role that may not register patients: 403, not 422.
    response = client.post("/api/patients/", {"gender": "unknown"}, content_type="application/json",
                           headers=bearer(pharmacist.user))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor=pharmacist.user, outcome="denied").exists()


def test_a_foreign_object_is_refused_before_the_body_is_validated(client, network, bearer):
    from caravane.patients.actions import do_register_patient

    theirs = do_register_patient(actor=network.nurse_b.user, registration_site=network.site_b,
                                 data={"given_name": "Itto", "family_name": "Amazigh", "gender": "female"})
    response = client.post(f"/api/patients/{theirs.pk}/consents", {"acts": "not a list"},
                           content_type="application/json", headers=bearer(network.gp_a.user))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor=network.gp_a.user, outcome="denied", object_id=str(theirs.pk)).exists()
    # In scope, the same invalid body is answered as invalid.
    mine = do_register_patient(actor=network.nurse_a.user, registration_site=network.site_a,
                               data={"given_name": "Ali", "family_name": "Oufkir", "gender": "male"})
    response = client.post(f"/api/patients/{mine.pk}/consents", {"acts": "not a list"},
                           content_type="application/json", headers=bearer(network.gp_a.user))
    assert response.status_code in (400, 422)


def test_unknown_query_parameters_are_answered_only_to_a_caller_the_gate_lets_in(client, network, bearer,
                                                                                  staff_factory):
    assert client.get("/api/care/encounters", {"bogus": "1"}).status_code == 401
    pharmacist = staff_factory(role="pharmacist", site=network.site_a)
    assert client.get("/api/care/encounters", {"bogus": "1"}, headers=bearer(pharmacist.user)).status_code == 403
    response = client.get("/api/care/encounters", {"bogus": "1"}, headers=bearer(network.gp_a.user))
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["bogus"]
