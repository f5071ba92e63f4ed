"""Check-in from the patient: by name in either script, phone or CIN on the queue board (picked from a list, with or
without JavaScript), from the search results and from the patient page; twice the same day is refused clearly,
and a patient beyond the user's reach is refused by the gate."""

import datetime

import pytest
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.care.models import Encounter
from caravane.patients.actions import do_register_patient


@pytest.fixture
def itto(team):
    """A registered patient (indexed for search), with both scripts of her name, a phone and a CIN."""
    return do_register_patient(actor=team["assistant"], registration_site=team["site"], data={
        "given_name": "Itto", "family_name": "Oubaha", "given_name_ar": "إيطو", "family_name_ar": "أوباها",
        "gender": "female", "birth_date": datetime.date(1968, 3, 2), "phone": "+212612345678",
        "national_id": "PA123456"})


@pytest.fixture
def desk(client, team):
    client.force_login(team["assistant"])
    return client


def _post(client, site, **data):
    return client.post(reverse("care:check_in"), {"site": site.pk, **data})


def _board(client, site, **query):
    return client.get(reverse("care:queue"), {"site": site.pk, **query}, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize("typed", ["Itto Oubaha", "itto oubaa", "إيطو أوباها", "0612345678", "06 12 34 56 78"])
def test_a_name_in_either_script_or_a_phone_lists_the_patient_to_pick(desk, team, itto, typed):
    response = _post(desk, team["site"], query=typed, priority="urgent")
    assert response.status_code == 302 and "find=" in response.url
    assert not Encounter.objects.exists()  # a name or a phone never checks anyone in by itself
    board = desk.get(response.url).content.decode()
    assert f'name="patient" value="{itto.pk}"' in board
    assert '<option value="urgent" selected>' in board  # the priority asked is kept for the pick
    picked = _post(desk, team["site"], patient=itto.pk, query=typed, priority="urgent")
    assert picked.status_code == 302
    visit = Encounter.objects.get()
    assert (visit.patient, visit.site, visit.priority) == (itto, team["site"], "urgent")


@pytest.mark.parametrize("typed", ["PA123456", "pa 123456"])
def test_a_cin_checks_the_patient_in_at_once(desk, team, itto, typed):
    assert _post(desk, team["site"], query=typed).status_code == 302
    assert Encounter.objects.get().patient == itto


def test_the_module_reads_the_matches_as_the_desk_types(desk, team, itto):
    before = AuditEvent.objects.count()
    response = desk.get(reverse("care:check_in_matches"), {"site": team["site"].pk, "q": "إيطو"})
    assert response.status_code == 200
    assert f'name="patient" value="{itto.pk}"' in response.content.decode()
    rows = list(AuditEvent.objects.order_by("sequence")[before:])
    assert len(rows) == 1 and rows[0].outcome == "allowed" and rows[0].detail["returned"] == [str(itto.pk)]


def test_the_patient_page_and_the_search_results_lead_to_the_check_in_form(desk, team, itto):
    for page in (desk.get(reverse("patients:detail", args=[itto.pk])),
                 desk.get(reverse("patients:search"), {"q": "Oubaha"})):
        assert f'{reverse("care:queue")}?patient={itto.pk}' in page.content.decode()
    board = _board(desk, team["site"], patient=itto.pk)
    assert "Itto Oubaha" in board and f'name="patient" value="{itto.pk}"' in board
    assert _post(desk, team["site"], patient=itto.pk, priority="standard").status_code == 302
    assert Encounter.objects.get().patient == itto


def test_checking_in_twice_the_same_day_says_so_and_adds_nothing(desk, team, itto):
    assert _post(desk, team["site"], patient=itto.pk).status_code == 302
    again = desk.post(reverse("care:check_in"), {"site": team["site"].pk, "patient": itto.pk},
                      follow=True, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Itto Oubaha is already in today&#x27;s queue of CSR Test; nothing was added." in again
    assert Encounter.objects.count() == 1
    # Found again, she is shown as queued, with no button to check her in a second time.
    listed = _board(desk, team["site"], find="Oubaha")
    assert "Already in today's queue" in listed and f'name="patient" value="{itto.pk}"' not in listed
    chosen = _board(desk, team["site"], patient=itto.pk)
    assert "This patient is already in today's queue." in chosen
    assert f'name="patient" value="{itto.pk}"' not in chosen


def test_a_patient_whose_visit_is_done_may_come_back_the_same_day(desk, team, itto):
    from caravane.care import actions

    assert _post(desk, team["site"], patient=itto.pk).status_code == 302
    visit = actions.do_advance(actor=team["nurse"], encounter=Encounter.objects.get(), to="with_nurse")
    visit = actions.do_advance(actor=team["nurse"], encounter=visit, to="with_gp")
    actions.do_save_note(actor=team["gp"], encounter=visit, reason="Fever", history="", examination="",
                         assessment="", plan="", referral_letter="")
    actions.do_close_visit(actor=team["gp"], encounter=visit)
    assert _post(desk, team["site"], patient=itto.pk).status_code == 302
    assert Encounter.objects.filter(patient=itto).count() == 2


@pytest.fixture
def elsewhere(site_factory, staff_factory):
    """Another centre's patient, never seen at the team's."""
    site = site_factory(name="CSR Ailleurs")
    nurse = staff_factory(role="nurse", site=site).user
    return do_register_patient(actor=nurse, registration_site=site, data={
        "given_name": "Zineb", "family_name": "Etrangere", "gender": "female", "national_id": "ZZ99999"})


def test_a_patient_beyond_reach_is_refused_by_the_gate(desk, team, elsewhere):
    assert _post(desk, team["site"], patient=elsewhere.pk).status_code == 403
    assert desk.get(reverse("care:queue"), {"site": team["site"].pk, "patient": elsewhere.pk}).status_code == 403
    assert AuditEvent.objects.filter(object_id=str(elsewhere.pk), outcome="denied").count() == 2
    assert str(elsewhere.pk) not in _board(desk, team["site"], find="Zineb Etrangere")
    # Typed as a CIN, it is answered like an unknown one (the refusal is audited all the same).
    assert _post(desk, team["site"], query="ZZ99999").status_code == 302
    assert AuditEvent.objects.filter(object_id=str(elsewhere.pk), outcome="denied").count() == 3
    assert not Encounter.objects.exists()


def test_roles_that_do_not_check_in_get_no_form(client, team, staff_factory, itto):
    pharmacist = staff_factory(role="pharmacist", site=team["site"]).user
    client.force_login(pharmacist)
    assert client.get(reverse("care:check_in_matches"), {"site": team["site"].pk, "q": "Itto"}).status_code == 403
    page = client.get(reverse("patients:detail", args=[itto.pk])).content.decode()
    assert "?patient=" not in page and reverse("care:chart", args=[itto.pk]) not in page


def test_an_old_record_number_of_a_merged_record_checks_in_its_survivor(desk, team, itto):
    from caravane.patients.actions import do_merge_patients

    duplicate = do_register_patient(actor=team["assistant"], registration_site=team["site"], data={
        "given_name": "Ito", "family_name": "Oubaha", "gender": "female"})
    do_merge_patients(actor=team["gp"], survivor=itto, merged=duplicate, reason="same person")
    assert _post(desk, team["site"], query=duplicate.record_number_display).status_code == 302
    assert Encounter.objects.get().patient == itto
