"""Routing: the first hub (regional centre, central platform, national centre) that offers the specialty with a
specialist of it assigned and on the roster before the answer is due; otherwise sent anyway where a specialist is
first rostered, the GP warned; national centre for complex tele-expertise; every step explained; escalation and
reassignment recorded on the request."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from caravane.telemed import actions, routing_rules, selectors
from caravane.telemed.models import Status
from caravane.telemed.routing_rules import Hub, Network, route_request

NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.timezone.utc)
DEADLINE = NOW + datetime.timedelta(hours=4)
SOON, LATE = NOW + datetime.timedelta(hours=1), NOW + datetime.timedelta(days=2)


def hub(hub_id, kind, listed, staffed=(), rostered=None):
    return Hub(hub_id, hub_id.title(), kind, frozenset(listed), staffed=frozenset(staffed), first_rostered=rostered or {})


REGIONAL = hub("regional", "regional_centre", {"cardiology", "paediatrics"}, {"cardiology", "paediatrics"},
               {"cardiology": SOON, "paediatrics": SOON})
CENTRAL = hub("central", "central_platform", {"cardiology", "dermatology"}, {"cardiology", "dermatology"},
              {"cardiology": SOON, "dermatology": SOON})
NATIONAL = hub("national", "national_centre", {"cardiology", "dermatology", "nephrology"},
               {"cardiology", "dermatology", "nephrology"},
               {"cardiology": SOON, "dermatology": SOON, "nephrology": SOON})
FULL = Network(REGIONAL, CENTRAL, NATIONAL)


def route(specialty="cardiology", network=FULL, kind="teleconsultation", complex_case=False):
    return route_request(kind=kind, specialty=specialty, complex_case=complex_case, network=network,
                         deadline=DEADLINE)


def rules(found):
    return [(step.rule, step.hub_id, step.chosen) for step in found.steps]


def test_regional_centre_first_when_its_specialist_is_on_the_roster_in_time():
    found = route()
    assert found.hub is REGIONAL and found.within_service_level and found.available == SOON
    assert rules(found) == [("regional_centre_offers", "regional", True)]


def test_central_platform_when_the_regional_centre_lacks_the_specialty():
    found = route("dermatology", kind="teleexpertise")
    assert found.hub is CENTRAL
    assert rules(found) == [("regional_centre_lacks", "regional", False), ("central_platform_offers", "central", True)]


def test_a_regional_centre_listing_the_specialty_without_a_specialist_is_passed_over():
    unstaffed = hub("regional", "regional_centre", {"cardiology"})
    found = route(network=Network(unstaffed, CENTRAL, NATIONAL))
    assert found.hub is CENTRAL and found.within_service_level
    assert rules(found) == [("regional_centre_unstaffed", "regional", False),
                            ("central_platform_offers", "central", True)]


def test_a_roster_that_starts_after_the_deadline_does_not_count():
    late = hub("regional", "regional_centre", {"cardiology"}, {"cardiology"}, {"cardiology": LATE})
    found = route(network=Network(late, CENTRAL, NATIONAL))
    assert found.hub is CENTRAL
    assert found.steps[0].rule == "regional_centre_not_rostered"
    assert found.steps[0].available == LATE.isoformat() and found.steps[0].until == DEADLINE.isoformat()


def test_a_specialist_on_duty_now_counts_and_the_deadline_itself_is_in_time():
    at_deadline = hub("regional", "regional_centre", {"cardiology"}, {"cardiology"}, {"cardiology": DEADLINE})
    assert route(network=Network(at_deadline, CENTRAL, NATIONAL)).hub is at_deadline


def test_no_regional_centre_goes_to_the_next_tier():
    found = route(network=Network(None, CENTRAL, NATIONAL))
    assert found.hub is CENTRAL
    assert rules(found)[0] == ("no_regional_centre", None, False)


def test_national_centre_is_the_last_tier():
    found = route("nephrology")
    assert found.hub is NATIONAL and found.within_service_level
    assert [r for r, _h, _c in rules(found)] == ["regional_centre_lacks", "central_platform_lacks",
                                                  "national_centre_offers"]


def test_nobody_in_time_goes_where_a_specialist_is_first_on_the_roster():
    later = LATE + datetime.timedelta(hours=3)
    network = Network(hub("regional", "regional_centre", {"cardiology"}),
                      hub("central", "central_platform", {"cardiology"}, {"cardiology"}, {"cardiology": later}),
                      hub("national", "national_centre", {"cardiology"}, {"cardiology"}, {"cardiology": LATE}))
    found = route(network=network)
    assert not found.within_service_level
    assert found.hub is network.national_centre and found.available == LATE
    assert [r for r, _h, _c in rules(found)] == ["regional_centre_unstaffed", "central_platform_not_rostered",
                                                  "national_centre_not_rostered", "none_within_service_level",
                                                  "first_available"]


def test_nobody_rostered_goes_to_the_first_hub_with_a_specialist_then_to_one_that_lists_it():
    staffed = Network(hub("regional", "regional_centre", {"cardiology"}),
                      hub("central", "central_platform", {"cardiology"}, {"cardiology"}), None)
    found = route(network=staffed)
    assert (found.hub.id, found.steps[-1].rule, found.within_service_level) == ("central", "staffed_not_rostered",
                                                                                 False)
    listed = Network(hub("regional", "regional_centre", {"cardiology"}), None, None)
    found = route(network=listed)
    assert (found.hub.id, found.steps[-1].rule) == ("regional", "listed_only")


def test_complex_tele_expertise_goes_to_the_national_centre_when_it_answers_in_time():
    found = route(kind="teleexpertise", complex_case=True)
    assert found.hub is NATIONAL
    assert rules(found) == [("regional_centre_offers", "regional", True),
                            ("complex_case_escalation", "national", True)]
    late_national = hub("national", "national_centre", {"cardiology"}, {"cardiology"}, {"cardiology": LATE})
    found = route(kind="teleexpertise", complex_case=True, network=Network(REGIONAL, CENTRAL, late_national))
    assert found.hub is REGIONAL and found.steps[-1].rule == "complex_case_national_unavailable"


def test_complex_flag_without_a_national_centre_offering_it_keeps_the_route():
    found = route("paediatrics", kind="teleexpertise", complex_case=True)
    assert found.hub is REGIONAL
    assert rules(found)[-1] == ("complex_case_no_national_centre", None, False)


def test_no_hub_offering_the_specialty_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as error:
        route("ophthalmology")
    assert "specialty" in error.value.message_dict


def test_reassignment_choices_put_the_hubs_that_answer_in_time_first():
    late = hub("late", "regional_centre", {"cardiology"}, {"cardiology"}, {"cardiology": LATE})
    empty = hub("empty", "regional_centre", {"cardiology"})
    choices = routing_rules.reassignment_choices(specialty="cardiology", hubs=[empty, late, CENTRAL, REGIONAL],
                                                 deadline=DEADLINE, exclude="regional")
    assert [(s.hub_id, s.rule) for s in choices] == [("central", "hub_offers"), ("late", "hub_not_rostered"),
                                                     ("empty", "hub_unstaffed")]


def test_every_rule_has_an_explanation_in_words():
    for rule in ["no_regional_centre", "none_within_service_level", "first_available", "staffed_not_rostered",
                 "listed_only", "national_centre_fallback", "complex_case_escalation",
                 "complex_case_national_unavailable", "complex_case_no_national_centre", "escalated", "reassigned"] + [
            f"{tier}_{outcome}" for tier in (*routing_rules.TIERS, "hub")
            for outcome in ("offers", "not_rostered", "unstaffed", "lacks") if (tier, outcome) != ("hub", "lacks")]:
        text = routing_rules.explain({"rule": rule, "hub_name": "Hub X", "specialty": "cardiology", "by": "Dr Y",
                                      "reason": "because", "until": DEADLINE.isoformat(),
                                      "available": SOON.isoformat()}, "Cardiology")
        assert text and "%(" not in text, rule


def test_the_explanation_names_the_deadline_as_day_month_year():
    step = routing_rules.assess(hub("regional", "regional_centre", {"cardiology"}, {"cardiology"},
                                    {"cardiology": LATE}), "cardiology", DEADLINE, "regional_centre").as_dict()
    text = routing_rules.explain({**step, "hub_name": "Drâa-Tafilalet"}, "Cardiology")
    assert text.startswith("Drâa-Tafilalet, the site's regional centre, lists Cardiology but has no Cardiology "
                           "specialist on the roster before ")
    assert timezone.localtime(DEADLINE).strftime("%d/%m/%Y %H:%M") in text


def test_routes_stored_before_rosters_keep_their_wording():
    assert routing_rules.explain({"rule": "regional_centre_offers", "hub_name": "R"}, "Cardiology") == \
        "R, the site's regional centre, offers Cardiology."


@pytest.mark.django_db
def test_requests_are_routed_and_explained_on_the_real_referral_chain(request_act, network, people, on_duty):
    on_duty(people.cardiologist, network.regional)
    on_duty(people.dermatologist, network.central)
    on_duty(people.national_cardiologist, network.national)
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


def test_the_hub_is_named_in_arabic_script_on_arabic_pages():
    from django.utils import translation

    named = Hub("r", "Centre régional Drâa-Tafilalet", "regional_centre", frozenset({"cardiology"}),
                name_ar="المركز الجهوي درعة تافيلالت")
    step = routing_rules.assess(named, "cardiology", DEADLINE, "regional_centre").as_dict()
    with translation.override("ar"):
        assert "المركز الجهوي درعة تافيلالت" in routing_rules.explain(step, "أمراض القلب")
    assert routing_rules.explain(step, "Cardiology").startswith("Centre régional Drâa-Tafilalet,")
