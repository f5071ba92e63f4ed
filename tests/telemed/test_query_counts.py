"""The hot reads cost a fixed number of queries whatever the data: patient, visit, chart, queue, worklist, act."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caravane.care import actions as care
from caravane.core.models import new_uuid7
from caravane.patients.actions import do_record_consent
from caravane.patients.identifiers import record_number_for
from caravane.patients.models import Patient
from caravane.telemed.actions import do_request_act, do_send_message


def _queries(client, user, url) -> int:
    client.force_login(user)
    client.get(url)  # the first call warms per-process caches (translations, content types)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


def _another_patient_in_the_queue(network, people, number: int):
    """A new patient with consent, checked in, vital signs taken twice, a request to the hub and two messages."""
    pk = new_uuid7()
    patient = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name=f"Hmad{number}",
                                     family_name="Ait Ali", gender="male", birth_date=datetime.date(1960, 1, number),
                                     registration_site=network.spoke)
    do_record_consent(actor=people.gp, patient=patient, acts=["teleconsultation"], method="signed_paper",
                      period_start=datetime.date.today() - datetime.timedelta(days=1), site=network.spoke)
    encounter = care.do_check_in(actor=people.nurse, patient=patient, site=network.spoke)
    encounter = care.do_advance(actor=people.nurse, encounter=encounter, to="with_nurse")
    for systolic in ("150", "140"):
        care.do_record_vitals(actor=people.nurse, encounter=encounter, values={"systolic": systolic, "diastolic": "90"})
    encounter = care.do_advance(actor=people.nurse, encounter=encounter, to="with_gp")
    act = do_request_act(actor=people.gp, encounter=encounter, kind="teleconsultation", specialty="cardiology",
                         priority="routine", question="Blood pressure still high?")
    for text in ("Any ECG?", "Not yet."):
        do_send_message(actor=people.gp, act=act, text=text)
    return patient, encounter, act


def test_hot_reads_cost_the_same_number_of_queries_with_five_times_the_data(client, network, people, visit,
                                                                              request_act):
    act = request_act()
    do_send_message(actor=people.gp, act=act, text="The patient is waiting.")
    patient = visit.patient
    reads = [
        (people.nurse, f"/api/patients/{patient.pk}"),
        (people.nurse, f"/api/care/encounters/{visit.pk}"),
        (people.nurse, f"/api/care/encounters/{visit.pk}/observations"),
        (people.nurse, "/api/care/encounters"),
        (people.nurse, "/api/patients/?q=ouchen"),
        (people.nurse, "/care/queue/"),
        (people.nurse, "/care/queue/columns/"),
        (people.nurse, f"/care/visits/{visit.pk}/"),
        (people.gp, f"/care/patients/{patient.pk}/chart/"),
        (people.nurse, f"/patients/{patient.pk}/"),
        (people.gp, f"/telemed/acts/{act.pk}/"),
        (people.gp, f"/api/telemed/service-requests/{act.pk}/communications"),
        (people.cardiologist, "/telemed/worklist/"),
        (people.cardiologist, "/telemed/worklist/rows/"),
        (people.cardiologist, f"/api/telemed/worklist?hub={network.regional.pk}&specialty=cardiology"),
        (people.cardiologist, f"/api/telemed/service-requests/{act.pk}"),
    ]
    before = {url: _queries(client, user, url) for user, url in reads}
    for number in range(1, 5):
        _another_patient_in_the_queue(network, people, number)
    for text in ("Second message", "Third message"):
        do_send_message(actor=people.gp, act=act, text=text)
    care.do_record_vitals(actor=people.gp, encounter=visit, values={"heart_rate": "88"})
    after = {url: _queries(client, user, url) for user, url in reads}
    assert after == before
    # Small, too: the busiest page (an act, with its route, conversation, files, report, the patient's banner
    # with allergies across merged records, the reader's marker and the links the reader may follow) stays
    # under 28.
    assert max(after.values()) <= 28, after
