"""Issue 10, point 1: acts reach somebody who can answer. A cardiology request reaches a hub with a cardiologist on
its roster and says why; with none within the service level the GP is warned before sending; coordinators land on
the acts that need them, reassign one in a click, live."""

import datetime

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from caravane.audit.models import AuditEvent
from caravane.routing import websocket_urlpatterns
from caravane.telemed import actions, selectors
from caravane.telemed.models import ServiceRequest, Status

pytestmark = pytest.mark.django_db

REQUEST = {"kind": "teleconsultation", "specialty": "cardiology", "priority": "urgent",
           "question": "Chest pain since this morning, ECG attached."}


@pytest.fixture
def central_cardiologist(network, staff_factory, specialties):
    """A cardiologist of the central platform (the regional centre's own is on no roster)."""
    return staff_factory(role="specialist", site=network.central, specialty=specialties["cardiology"]).user


def _when(moment) -> str:
    """A time as the explanations write it: day/month/year, isolated left to right."""
    return f"\u2066{timezone.localtime(moment):%d/%m/%Y %H:%M}\u2069"


def _client(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# --- The acceptance ------------------------------------------------------------------------------------------

def test_a_cardiology_request_reaches_the_hub_with_a_cardiologist_on_its_roster_and_says_why(
        client, people, network, visit, consent, central_cardiologist, on_duty):
    on_duty(central_cardiologist, network.central)
    response = _client(client, people.gp).post(reverse("telemed:request", args=[visit.pk]), REQUEST)
    act = ServiceRequest.objects.get()
    assert response.status_code == 302 and act.hub == network.central
    page = client.get(reverse("telemed:act", args=[act.pk])).content.decode()
    due = _when(act.due_at)
    assert ("Regional centre, the site&#x27;s regional centre, lists Cardiology but has no Cardiology specialist "
            f"on the roster before {due}.") in page
    assert 'data-rule="central_platform_offers"' in page
    assert "The central platform Central platform has a Cardiology specialist on the roster from" in page


def test_the_regional_centre_takes_it_when_its_cardiologist_is_on_the_roster(people, network, request_act,
                                                                             central_cardiologist, on_duty):
    on_duty(central_cardiologist, network.central)
    on_duty(people.cardiologist, network.regional)
    assert request_act(priority="urgent").hub == network.regional


def test_a_roster_after_the_deadline_does_not_count_but_a_routine_request_reaches_it(
        people, network, request_act, central_cardiologist, on_duty):
    on_duty(central_cardiologist, network.central, start=timezone.now() + datetime.timedelta(hours=5))
    assert selectors.route_for(network.spoke, kind="teleconsultation", specialty="cardiology",
                               priority="routine").hub.id == str(network.central.pk)
    assert not selectors.route_for(network.spoke, kind="teleconsultation", specialty="cardiology",
                                   priority="urgent").within_service_level


def test_a_specialist_who_left_the_hub_is_not_on_its_roster(people, network, central_cardiologist, on_duty):
    on_duty(central_cardiologist, network.central)
    central_cardiologist.staff.assignments.update(end_date=datetime.date.today() - datetime.timedelta(days=1))
    hub = selectors.network_snapshot().hubs[str(network.central.pk)]
    assert "cardiology" not in hub.staffed and hub.available_from("cardiology") is None


def test_with_no_cardiologist_within_the_service_level_the_gp_is_warned_before_sending(
        client, people, network, visit, consent, central_cardiologist, on_duty):
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    on_duty(central_cardiologist, network.central, start=tomorrow)
    gp = _client(client, people.gp)
    response = gp.post(reverse("telemed:request", args=[visit.pk]), REQUEST)
    assert response.status_code == 200 and not ServiceRequest.objects.exists()
    page = response.content.decode()
    assert "No hub can answer within the service level." in page and 'id="send-anyway"' in page
    assert "No hub has a Cardiology specialist on the roster before the answer is due" in page
    first = _when(tomorrow)
    assert f"Send anyway to Central platform: a Cardiology specialist is on its roster from {first}." in page
    assert "Or change the priority: a hub answers in time for Routine." in page

    response = gp.post(reverse("telemed:request", args=[visit.pk]), {**REQUEST, "send_anyway": "on"})
    act = ServiceRequest.objects.get()
    assert response.status_code == 302 and act.hub == network.central
    assert [step["rule"] for step in act.route][-2:] == ["none_within_service_level", "first_available"]
    assert "Sent anyway to Central platform" in selectors.route_explained(act)[-1]["explanation"]
    assert AuditEvent.objects.filter(action="telemed.request_act").latest("at").detail[
        "within_service_level"] is False


def test_the_api_previews_the_route_and_warns(client, people, network, visit, consent, central_cardiologist,
                                              on_duty):
    api = _client(client, people.gp)
    url = f"/api/telemed/encounters/{visit.pk}/route"
    answer = api.get(url, {"kind": "teleconsultation", "specialty": "cardiology", "priority": "urgent"}).json()
    assert answer["within_service_level"] is False and answer["warning"]
    assert answer["hub"] == str(network.regional.pk)  # its cardiologist, though on no roster
    assert answer["route"][-1]["rule"] == "staffed_not_rostered"
    refused = api.post("/api/telemed/service-requests", {**REQUEST, "encounter": str(visit.pk),
                                                         "send_anyway": False}, content_type="application/json")
    assert refused.status_code == 400 and "send_anyway" in refused.content.decode()
    assert not ServiceRequest.objects.exists()

    on_duty(central_cardiologist, network.central)
    answer = api.get(url, {"kind": "teleconsultation", "specialty": "cardiology", "priority": "urgent"}).json()
    assert (answer["within_service_level"], answer["hub"], answer["warning"]) == (True, str(network.central.pk), [])
    created = api.post("/api/telemed/service-requests", {**REQUEST, "encounter": str(visit.pk),
                                                         "send_anyway": False}, content_type="application/json")
    assert created.status_code == 201 and created.json()["routed_within_service_level"] is True
    assert api.get(url, {"kind": "teleconsultation", "specialty": "astrology"}).status_code == 400


def test_the_snapshot_costs_the_same_queries_whatever_the_network(people, network, central_cardiologist, on_duty,
                                                                  site_factory, specialties):
    def count():
        with CaptureQueriesContext(connection) as captured:
            selectors.network_snapshot().network_for(network.spoke)
        return len(captured.captured_queries)

    before = count()
    on_duty(central_cardiologist, network.central)
    on_duty(people.cardiologist, network.regional)
    site_factory(kind="regional_centre", parent=network.national, specialties=list(specialties.values()))
    assert count() == before == 4


# --- The coordinators' page ----------------------------------------------------------------------------------

@pytest.fixture
def overdue_act(request_act):
    """An urgent act past its due time at the regional centre."""
    act = request_act(priority="urgent")
    ServiceRequest.objects.filter(pk=act.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=5))
    return act


@pytest.fixture
def foreign_act(people, network, staff_factory, specialties):
    """An act requested in another region, routed to that region's centre."""
    from caravane.care import actions as care
    from caravane.core.models import new_uuid7
    from caravane.patients.actions import do_record_consent
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    nurse = staff_factory(role="nurse", site=network.other_spoke).user
    pk = new_uuid7()
    patient = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name="Moha", family_name="Amzil",
                                     gender="male", birth_date=datetime.date(1950, 1, 1),
                                     registration_site=network.other_spoke)
    do_record_consent(actor=people.other_gp, patient=patient, acts=["teleconsultation"], method="signed_paper",
                      period_start=datetime.date.today() - datetime.timedelta(days=1), site=network.other_spoke)
    visit = care.do_check_in(actor=nurse, patient=patient, site=network.other_spoke)
    return actions.do_request_act(actor=people.other_gp, encounter=visit, **REQUEST)


def test_coordinators_land_on_the_acts_of_their_area(client, people, network, overdue_act, foreign_act):
    response = _client(client, people.coordinator).get(reverse("telemed:index"))
    assert response.status_code == 302 and response["Location"] == reverse("telemed:coordination")
    page = client.get(reverse("telemed:coordination")).content.decode()
    overdue = page.split('id="section-overdue"', 1)[1].split("</section>", 1)[0]
    assert f'data-act="{overdue_act.pk}"' in overdue and "Itto Ouchen" in overdue
    assert str(foreign_act.pk) not in page and "Amzil" not in page  # another region's
    read = AuditEvent.objects.filter(action="telemed.view_coordination").latest("at")
    assert read.detail["returned"] == [str(overdue_act.patient_id)]
    national = _client(client, people.national_coordinator).get(reverse("telemed:coordination")).content.decode()
    assert str(overdue_act.pk) in national and str(foreign_act.pk) in national
    assert _client(client, people.gp).get(reverse("telemed:coordination")).status_code == 403
    assert _client(client, people.cardiologist).get(reverse("telemed:coordination_rows")).status_code == 403


def test_the_reassignment_choice_lists_the_hubs_that_answer_first_with_why(
        client, people, network, overdue_act, central_cardiologist, on_duty):
    on_duty(central_cardiologist, network.central)
    sections = selectors.coordination(people.coordinator)
    entry = sections["overdue"][0]
    assert entry.act.pk == overdue_act.pk and entry.section == "overdue"
    assert [(c["hub_id"], c["rule"]) for c in entry.choices][0] == (str(network.central.pk), "hub_offers")
    assert str(network.regional.pk) not in [c["hub_id"] for c in entry.choices]  # it is waiting there
    assert entry.choices[0]["explanation"].startswith("Central platform: a Cardiology specialist on the roster from")
    assert entry.reason == "No answer from Regional centre within the service level."


def test_reassignment_from_the_page_in_one_post_and_back(client, people, network, overdue_act, central_cardiologist,
                                                         on_duty):
    on_duty(central_cardiologist, network.central)
    coordinator = _client(client, people.coordinator)
    response = coordinator.post(reverse("telemed:operate", args=[overdue_act.pk, "reassign"]), {
        "hub": str(network.central.pk), "reason": "No answer from Regional centre within the service level.",
        "next": "coordination"})
    assert response.status_code == 302 and response["Location"] == reverse("telemed:coordination")
    overdue_act.refresh_from_db()
    assert (overdue_act.hub, overdue_act.status) == (network.central, Status.REQUESTED)
    assert overdue_act.due_at > timezone.now()
    page = coordinator.get(reverse("telemed:coordination")).content.decode()
    assert "Request reassigned." in page
    due_soon = page.split('id="section-due_soon"', 1)[1].split("</section>", 1)[0]  # urgent: due in 30 minutes
    assert str(overdue_act.pk) in due_soon
    # A refused reassignment (no reason) comes back to the page with the message, nothing changed.
    response = coordinator.post(reverse("telemed:operate", args=[overdue_act.pk, "reassign"]), {
        "hub": str(network.national.pk), "reason": " ", "next": "coordination"}, follow=True)
    assert "Reason: say why the request is reassigned." in response.content.decode()
    overdue_act.refresh_from_db()
    assert overdue_act.hub == network.central


def test_a_foreign_act_is_refused_to_the_regional_coordinator(client, people, network, foreign_act):
    response = _client(client, people.coordinator).post(
        reverse("telemed:operate", args=[foreign_act.pk, "reassign"]),
        {"hub": str(network.central.pk), "reason": "Closer", "next": "coordination"})
    assert response.status_code == 403
    foreign_act.refresh_from_db()
    assert foreign_act.hub == network.other_regional
    assert AuditEvent.objects.filter(action="telemed.view_act", outcome="denied", object_id=str(foreign_act.pk)).exists()


def test_the_specialist_sees_their_next_slots_beside_the_worklist(client, people, network, on_duty):
    slot = on_duty(people.cardiologist, network.regional, start=timezone.now() + datetime.timedelta(hours=2))
    page = _client(client, people.cardiologist).get(reverse("telemed:worklist")).content.decode()
    assert f'data-slot="{slot.pk}"' in page and timezone.localtime(slot.start).strftime("%d/%m/%Y %H:%M") in page
    assert 'id="upcoming-slots"' not in _client(client, people.coordinator).get(
        reverse("telemed:worklist")).content.decode()


# --- Live ----------------------------------------------------------------------------------------------------

application = URLRouter(websocket_urlpatterns)


def _communicator(user):
    communicator = WebsocketCommunicator(application, "/ws/telemed/coordination/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
def test_the_page_follows_its_areas_acts_live(people, network, request_act, foreign_act):
    async def scenario():
        regional, national = _communicator(people.coordinator), _communicator(people.national_coordinator)
        for communicator in (regional, national):
            assert (await communicator.connect())[0]
        act = await sync_to_async(request_act)(priority="urgent")
        for communicator in (regional, national):
            message = await communicator.receive_json_from(timeout=2)
            assert (message["event"], message["payload"]["act"]) == ("telemed.requested", str(act.pk))
        await sync_to_async(actions.do_reassign)(actor=people.national_coordinator, act=foreign_act,
                                                 hub=network.national, reason="Closer")
        message = await national.receive_json_from(timeout=2)
        assert (message["event"], message["payload"]["act"]) == ("telemed.reassigned", str(foreign_act.pk))
        assert await regional.receive_nothing(timeout=0.3)  # another region's act
        for communicator in (regional, national):
            await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["gp", "cardiologist", None])
def test_only_coordinators_join_the_coordination_feed(people, who):
    from django.contrib.auth.models import AnonymousUser

    async def scenario():
        connected, code = await _communicator(getattr(people, who) if who else AnonymousUser()).connect()
        assert not connected and code == 4403

    async_to_sync(scenario)()


# --- The demo ------------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("morocco")
def test_in_the_demo_a_cardiology_request_from_imilchil_passes_draa_tafilalet_by_for_a_rostered_cardiologist():
    from caravane.demo.network import build_demo_network
    from caravane.network.models import Site

    build_demo_network()
    imilchil = Site.objects.get(code="rhc-imilchil")
    for priority in ("urgent", "priority", "routine"):
        route = selectors.route_for(imilchil, kind="teleconsultation", specialty="cardiology", priority=priority)
        assert route.within_service_level and route.hub.kind == "central_platform", priority
        assert [(step.rule, step.hub_id) for step in route.steps] == [
            ("regional_centre_unstaffed", str(Site.objects.get(code="regional-centre-08").pk)),
            ("central_platform_offers", route.hub.id)]
    # Every specialty the central platform lists has somebody on its roster within four days (weekends included).
    central = selectors.network_snapshot().hubs[route.hub.id]
    assert all(central.answers_by(code, timezone.now() + datetime.timedelta(days=4)) for code in central.specialties)
    assert build_demo_network().created["roster_slots"] == 0
