"""Routing: regional centre when it offers the specialty, else the central platform, national centre for
complex tele-expertise; every step explained; escalation and reassignment recorded on the request."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from caravane.telemed import actions, routing_rules, selectors
from caravane.telemed.models import Status
from caravane.telemed.routing_rules import Hub, Network, route_request

REGIONAL = Hub("r", "Regional", "regional_centre", frozenset({"cardiology", "paediatrics"}))
CENTRAL = Hub("c", "Central", "central_platform", frozenset({"cardiology", "dermatology"}))
NATIONAL = Hub("n", "National", "national_centre", frozenset({"cardiology", "dermatology", "nephrology"}))
FULL = Network(REGIONAL, CENTRAL, NATIONAL)


def rules(route):
    return [(step.rule, step.hub_id, step.chosen) for step in route.steps]


def test_regional_centre_first_when_it_offers_the_specialty():
    route = route_request(kind="teleconsultation", specialty="cardiology", complex_case=False, network=FULL)
    assert route.hub is REGIONAL
    assert rules(route) == [("regional_centre_offers", "r", True)]


def test_central_platform_when_the_regional_centre_lacks_the_specialty():
    route = route_request(kind="teleexpertise", specialty="dermatology", complex_case=False, network=FULL)
    assert route.hub is CENTRAL
    assert rules(route) == [("regional_centre_lacks", "r", False), ("central_platform_offers", "c", True)]


def test_no_regional_centre_goes_to_the_central_platform():
    route = route_request(kind="teleconsultation", specialty="cardiology", complex_case=False,
                          network=Network(None, CENTRAL, NATIONAL))
    assert route.hub is CENTRAL
    assert rules(route)[0] == ("no_regional_centre", None, False)


def test_national_centre_when_no_other_hub_offers_the_specialty():
    route = route_request(kind="teleconsultation", specialty="nephrology", complex_case=False, network=FULL)
    assert route.hub is NATIONAL
    assert [r for r, _h, _c in rules(route)] == ["regional_centre_lacks", "central_platform_lacks",
                                                  "national_centre_fallback"]


def test_complex_tele_expertise_escalates_to_the_national_centre():
    route = route_request(kind="teleexpertise", specialty="cardiology", complex_case=True, network=FULL)
    assert route.hub is NATIONAL
    assert rules(route) == [("regional_centre_offers", "r", True), ("complex_case_escalation", "n", True)]


def test_complex_flag_without_a_national_centre_offering_it_keeps_the_route():
    route = route_request(kind="teleexpertise", specialty="paediatrics", complex_case=True, network=FULL)
    assert route.hub is REGIONAL
    assert rules(route)[-1] == ("complex_case_no_national_centre", None, False)


def test_no_hub_offering_the_specialty_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as error:
        route_request(kind="teleconsultation", specialty="ophthalmology", complex_case=False, network=FULL)
    assert "specialty" in error.value.message_dict


def test_every_rule_has_an_explanation_in_words():
    for rule in ["no_regional_centre", "regional_centre_offers", "regional_centre_lacks", "central_platform_offers",
                 "central_platform_lacks", "national_centre_fallback", "complex_case_escalation",
                 "complex_case_no_national_centre", "escalated", "reassigned"]:
        text = routing_rules.explain({"rule": rule, "hub_name": "Hub X", "specialty": "cardiology",
                                      "by": "Dr Y", "reason": "because"}, "Cardiology")
        assert text and "%(" not in text


@pytest.mark.django_db
def test_requests_are_routed_and_explained_on_the_real_referral_chain(request_act, network):
    act = request_act(specialty="cardiology")
    assert act.hub_id == network.regional.pk
    dermatology = request_act(kind="teleexpertise", specialty="dermatology")
    assert dermatology.hub_id == network.central.pk
    explained = selectors.route_explained(dermatology)
    assert [s["rule"] for s in explained] == ["regional_centre_lacks", "central_platform_offers"]
    assert "does not offer Dermatology" in explained[0]["explanation"]
    assert "Central platform" in explained[1]["explanation"]
    complex_case = request_act(kind="teleexpertise", specialty="cardiology", complex_case=True)
    assert complex_case.hub_id == network.national.pk
    assert "national expertise centre" in selectors.route_explained(complex_case)[-1]["explanation"]


@pytest.mark.django_db
def test_complex_flag_is_for_tele_expertise_only(request_act):
    with pytest.raises(ValidationError) as error:
        request_act(kind="teleconsultation", complex_case=True)
    assert "complex_case" in error.value.message_dict


@pytest.mark.django_db
def test_escalation_goes_to_the_national_centre_with_its_reason(request_act, people, network):
    act = request_act(kind="teleexpertise")
    act = actions.do_escalate(actor=people.cardiologist, act=act, reason="Suspected congenital anomaly")
    assert (act.status, act.hub_id, act.assignee_id) == (Status.ESCALATED, network.national.pk, None)
    step = act.route[-1]
    assert (step["rule"], step["reason"], step["hub_id"]) == ("escalated", "Suspected congenital anomaly",
                                                              str(network.national.pk))
    assert "Suspected congenital anomaly" in selectors.route_explained(act)[-1]["explanation"]
    # Now the national centre's cardiologist sees it and the regional one no longer does.
    assert selectors.visible_acts(people.national_cardiologist).filter(pk=act.pk).exists()
    assert not selectors.visible_acts(people.cardiologist).filter(pk=act.pk).exists()
    with pytest.raises(ValidationError):
        actions.do_escalate(actor=people.national_cardiologist, act=act, reason="No higher level")


@pytest.mark.django_db
def test_escalation_needs_a_reason(request_act, people):
    act = request_act()
    with pytest.raises(ValidationError) as error:
        actions.do_escalate(actor=people.cardiologist, act=act, reason="  ")
    assert "reason" in error.value.message_dict


@pytest.mark.django_db
def test_coordinator_reassigns_with_a_reason_to_a_hub_offering_the_specialty(request_act, people, network):
    act = request_act()
    act = actions.do_decline(actor=people.cardiologist, act=act, reason="No cardiologist on duty this week")
    with pytest.raises(ValidationError) as error:
        actions.do_reassign(actor=people.coordinator, act=act, hub=network.spoke, reason="x")
    assert "hub" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        actions.do_reassign(actor=people.gp, act=act, hub=network.central, reason="Try the platform")
    act = actions.do_reassign(actor=people.coordinator, act=act, hub=network.central, reason="Try the platform")
    assert (act.status, act.hub_id) == (Status.REQUESTED, network.central.pk)
    assert act.route[-1]["rule"] == "reassigned" and act.route[-1]["reason"] == "Try the platform"
    assert [t.to_status for t in act.transitions.all()] == ["requested", "declined", "requested"]
