"""Merged patients in care: the survivor's chart and visit list hold both records' histories."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from caravane.care import actions
from caravane.care.selectors import consents_of, encounters_of, vital_series
from caravane.patients.actions import do_merge_patients, do_record_consent


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


def _visit_with_vitals(team, patient, systolic):
    encounter = actions.do_check_in(actor=team["assistant"], patient=patient, site=team["site"])
    encounter = actions.do_advance(actor=team["nurse"], encounter=encounter, to="with_nurse")
    actions.do_record_vitals(actor=team["nurse"], encounter=encounter,
                             values={"systolic": str(systolic), "diastolic": "80", "weight": "61"})
    encounter = actions.do_advance(actor=team["nurse"], encounter=encounter, to="with_gp")
    actions.do_save_note(actor=team["gp"], encounter=encounter, reason=f"Check-up {systolic}")
    return actions.do_close_visit(actor=team["gp"], encounter=encounter)


@pytest.fixture
def merged_pair(team, patient_factory):
    """Two records of one person, each with a closed visit (with vital signs) and a consent, then merged."""
    survivor = patient_factory(site=team["site"], given_name="Fatima", family_name="Amrani")
    duplicate = patient_factory(site=team["site"], given_name="Fatma", family_name="Amrani")
    visits = [_visit_with_vitals(team, survivor, 131), _visit_with_vitals(team, duplicate, 147)]
    consents = [do_record_consent(actor=team["nurse"], patient=record, acts=["teleconsultation"],
                                  method="signed_paper", period_start=timezone.localdate(), note=note)
                for record, note in ((survivor, "consent of the survivor"), (duplicate, "consent of the duplicate"))]
    do_merge_patients(actor=team["gp"], survivor=survivor, merged=duplicate, reason="same person")
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    return survivor, duplicate, visits, consents


def test_survivor_reads_hold_both_records(merged_pair):
    survivor, duplicate, visits, consents = merged_pair
    for record in (survivor, duplicate):
        encounters = list(encounters_of(record))
        assert {e.pk for e in encounters} == {v.pk for v in visits}
        systolic = next(s for s in vital_series(encounters) if s.sign.key == "systolic")
        assert sorted(v for _, v in systolic.points) == [131.0, 147.0]
        assert {c.pk for c in consents_of(record)} == {c.pk for c in consents}


def test_survivor_chart_shows_both_visits_vitals_and_consents(client, team, merged_pair):
    survivor, _duplicate, visits, consents = merged_pair
    client.force_login(team["gp"])
    page = client.get(reverse("care:chart", args=[survivor.pk])).content.decode()
    for expected in ("Check-up 131", "Check-up 147", "131 mmHg</bdi>", "147 mmHg</bdi>", *(str(c.pk) for c in consents)):
        assert expected in page
    assert page.count('data-consent="') == 2


def test_a_merged_records_chart_opens_the_survivors(client, team, merged_pair):
    survivor, duplicate, _visits, _consents = merged_pair
    client.force_login(team["gp"])
    response = client.get(reverse("care:chart", args=[duplicate.pk]))
    assert response.status_code == 302 and response.url == reverse("care:chart", args=[survivor.pk])
    assert "Check-up 147" in client.get(response.url).content.decode()


def test_api_visits_of_a_patient_include_merged_records(team, merged_pair):
    survivor, _duplicate, visits, _consents = merged_pair
    api = Client(headers={"accept-language": "en"})
    api.force_login(team["gp"])
    listed = api.get("/api/care/encounters", {"patient": str(survivor.pk)}).json()["results"]
    assert {item["id"] for item in listed} == {str(v.pk) for v in visits}
