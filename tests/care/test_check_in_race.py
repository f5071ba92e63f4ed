"""Two check-ins of the same patient at once: one visit, and a clear 400 for the other (never a 500)."""

import threading

import pytest
from django.db import connection
from django.utils import timezone
from django.test import Client

from caravane.care import actions
from caravane.care.models import Encounter


def _check_in(client, patient, site):
    return client.post("/api/care/encounters", {"patient": str(patient.pk), "site": str(site.pk)},
                       content_type="application/json")


def _client(user):
    from caravane.accounts.actions import do_create_api_token

    _token, raw = do_create_api_token(user=user, name="check-in desk")
    return Client(headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"})


@pytest.mark.django_db
def test_a_check_in_that_loses_the_race_to_the_unique_constraint_is_a_400(team, patient_factory, monkeypatch):
    patient = patient_factory(site=team["site"])
    coverage_of = actions.coverage_of

    def rival_checks_in_first(patient, day):
        # Runs after the "already in the queue?" look-up: the rival's visit lands in between.
        Encounter.objects.create(patient=patient, site=team["site"], service_date=day, checked_in_at=timezone.now(),
                                 checked_in_by=team["nurse"].staff)
        return coverage_of(patient, day)

    monkeypatch.setattr(actions, "coverage_of", rival_checks_in_first)
    response = _check_in(_client(team["assistant"]), patient, team["site"])
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "patient",
                                          "message": "Patient: Fatima Amrani is already in today's queue of "
                                                     "CSR Test; nothing was added."}]
    assert not Encounter.objects.exists()  # the refused check-in changed nothing


@pytest.mark.django_db(transaction=True)
def test_two_desks_checking_in_the_same_patient_at_once(team, patient_factory, monkeypatch):
    patient = patient_factory(site=team["site"])
    desks = [_client(team["assistant"]), _client(team["nurse"])]
    both_looked = threading.Barrier(2)
    coverage_of = actions.coverage_of

    def after_both_looked(patient, day):
        try:
            both_looked.wait(timeout=1)  # SQLite serialises the two transactions: the second never gets here
        except threading.BrokenBarrierError:
            pass
        return coverage_of(patient, day)

    monkeypatch.setattr(actions, "coverage_of", after_both_looked)
    answers = []

    def desk(client):
        try:
            answers.append(_check_in(client, patient, team["site"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=desk, args=(client,)) for client in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answer.status_code for answer in answers) == [201, 400]
    refused = next(answer for answer in answers if answer.status_code == 400)
    assert refused.json()["errors"][0]["field"] == "patient"
    assert Encounter.objects.filter(patient=patient).count() == 1
