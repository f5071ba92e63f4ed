"""A home for each role: where login (and the logo) lands each one, the GP's home and the pharmacist's page."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from caravane.accounts.models import User
from caravane.audit.models import AuditEvent

PASSWORD = "caravane-test-pass"


HOMES = {
    "assistant": lambda: reverse("care:queue"),
    "nurse": lambda: reverse("care:queue"),
    "gp": lambda: reverse("homes:gp"),
    "specialist": lambda: reverse("telemed:worklist"),
    "pharmacist": lambda: reverse("pharmacy:index"),
    "coordinator": lambda: reverse("telemed:coordination"),
    "administrator": lambda: reverse("network_dashboard"),
}


@pytest.fixture
def staff_of(network, staff_factory):
    """``staff_of(role)``: a member of that role (at Imilchil, the specialist at the regional centre)."""

    def make(role):
        site = {"specialist": network["regional"], "coordinator": None, "administrator": None}.get(
            role, network["imilchil"])
        extra = {"specialty": network["cardiology"]} if role == "specialist" else {}
        return staff_factory(role=role, site=site, username=f"{role}.home", **extra)

    return make


def _client_of(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(HOMES))
def test_login_and_the_logo_land_each_role_on_its_home(client, staff_of, role):
    staff_of(role)
    expected = HOMES[role]()
    response = client.post(reverse("accounts:login"), {"username": f"{role}.home", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == expected
    page = response.content.decode()
    assert f'class="brand" href="{expected}"' in page  # the logo leads home without a detour
    assert client.get(reverse("home")).url == expected


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(HOMES))
def test_the_menu_offers_each_role_only_pages_it_may_open(client, staff_of, role):
    staff_of(role)
    client.force_login(User.objects.get(username=f"{role}.home"))
    page = client.get(reverse("network_dashboard")).content.decode()
    menu = re.search(r'<nav class="mainnav".*?</nav>', page, re.S).group(0)
    links = re.findall(r'href="([^"]+)"', menu)
    assert reverse("network_dashboard") in links
    for link in links:
        assert client.get(link, follow=True).status_code == 200, (role, link)


@pytest.mark.django_db
def test_the_network_dashboard_stays_in_everyones_menu(nurse_client):
    page = nurse_client.get(reverse("care:queue")).content.decode()
    assert f'href="{reverse("network_dashboard")}"' in page
    assert nurse_client.get(reverse("network_dashboard")).status_code == 200
    assert f'href="{reverse("care:prescriptions")}"' not in page  # not the nurse's to read
    assert nurse_client.get(reverse("care:prescriptions")).status_code == 403


@pytest.fixture
def day_at(network, staff_factory):
    """A GP, a nurse and a pharmacist at Imilchil, a GP at Talsint, and a patient with the GP at each site."""
    from caravane.care import actions
    from caravane.core.models import new_uuid7
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    people = {name: staff_factory(role=role, site=network[site]).user for name, role, site in (
        ("gp", "gp", "imilchil"), ("nurse", "nurse", "imilchil"), ("pharmacist", "pharmacist", "imilchil"),
        ("other_gp", "gp", "talsint"))}

    def patient(site, given, family):
        pk = new_uuid7()
        return Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name=given,
                                      family_name=family, gender="female", birth_date=datetime.date(1980, 1, 1),
                                      registration_site=network[site])

    def with_doctor(person, gp, site, given):
        encounter = actions.do_check_in(actor=gp, patient=person, site=network[site])
        encounter = actions.do_advance(actor=gp, encounter=encounter, to="with_nurse")
        encounter = actions.do_advance(actor=gp, encounter=encounter, to="with_gp")
        actions.do_prescribe(actor=gp, encounter=encounter, medication=f"Amoxicillin for {given}", dose="1 g",
                             route="oral", frequency="twice a day", duration_days="7")
        return encounter

    visits = {
        "mine": with_doctor(patient("imilchil", "Itto", "Ouchen"), people["gp"], "imilchil", "Itto"),
        "theirs": with_doctor(patient("talsint", "Zineb", "Talsinti"), people["other_gp"], "talsint", "Zineb"),
    }
    still_waiting = patient("imilchil", "Aicha", "Attente")
    actions.do_check_in(actor=people["nurse"], patient=still_waiting, site=network["imilchil"])
    return people, visits


@pytest.mark.django_db
def test_the_gp_home_lists_their_patients_waiting_for_the_doctor_live(day_at, network):
    people, visits = day_at
    client = _client_of(people["gp"])
    page = client.get(reverse("homes:gp")).content.decode()
    today = datetime.date.today().isoformat()
    assert "Itto Ouchen" in page and "Zineb" not in page
    assert "Aicha" not in page  # checked in, not yet for the doctor: counted only
    assert reverse("care:visit", args=[visits["mine"].pk]) in page
    assert f"/ws/care/queue/{network['imilchil'].pk}/{today}/" in page
    assert f"/ws/telemed/site/{network['imilchil'].pk}/" in page
    rows = client.get(reverse("homes:gp_waiting")).content.decode()
    assert "Itto Ouchen" in rows and "Zineb" not in rows
    read = AuditEvent.objects.filter(actor=people["gp"]).latest("sequence")  # one row per request
    assert (read.action, read.detail["returned"]) == ("homes.gp", [str(visits["mine"].patient_id)])


@pytest.mark.django_db
def test_the_gp_home_is_the_doctors(day_at):
    people, _visits = day_at
    assert _client_of(people["nurse"]).get(reverse("homes:gp")).status_code == 403


@pytest.mark.django_db
def test_the_pharmacist_reads_todays_prescriptions_of_their_site_only(day_at):
    people, visits = day_at
    client = _client_of(people["pharmacist"])
    page = client.get(reverse("care:prescriptions")).content.decode()
    assert "Amoxicillin for Itto" in page and "Itto Ouchen" in page
    assert "Amoxicillin for Zineb" not in page and "Zineb" not in page
    read = AuditEvent.objects.filter(action="care.view_prescriptions", actor=people["pharmacist"]).latest("sequence")
    assert read.outcome == "allowed" and read.detail["returned"] == [str(visits["mine"].patient_id)]
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    assert "Amoxicillin" not in client.get(reverse("care:prescriptions"), {"day": yesterday}).content.decode()
    assert client.get(reverse("care:prescriptions"), {"day": "not-a-day"}).status_code == 404
