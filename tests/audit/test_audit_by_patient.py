"""The audit trail searched by patient (name or record number): every kind of event about them, in a fixed number
of queries, and nothing about anyone else."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.audit.subjects import patient_paths
from caravane.patients.actions import do_merge_patients, do_register_patient

from tests.web.access_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return build_world()


@pytest.fixture
def admin_client(client, staff_factory):
    client.force_login(staff_factory(role="administrator").user)
    return client


def _listed(client, **query):
    response = client.get(reverse("audit:list"), {**query, "page": "1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    paginator = response.context["page"].paginator
    return response, [event for number in paginator.page_range for event in paginator.page(number).object_list]


def test_every_model_that_belongs_to_a_patient_is_searched():
    paths = patient_paths()
    for label in ("patients.patient", "patients.consent", "patients.consentrevocation", "care.encounter",
                  "care.observation", "care.condition", "care.medicationrequest", "care.amendment",
                  "telemed.servicerequest", "telemed.communication", "telemed.attachment", "telemed.appointment",
                  "telemed.diagnosticreport", "telemed.reportamendment"):
        assert label in paths, label
    assert "network.site" not in paths and "accounts.user" not in paths


def test_a_patient_by_name_finds_events_of_every_kind_and_no_one_else(world, admin_client):
    # The patient's page read by their GP, then the search by name.
    world_client = admin_client.__class__()
    world_client.force_login(world.their_gp)
    assert world_client.get(reverse("patients:detail", args=[world.their_patient.pk])).status_code == 200
    response, events = _listed(admin_client, patient="Zineb Etrangere")
    kinds = {event.object_type for event in events}
    assert {"patients.patient", "patients.consent", "care.encounter", "telemed.servicerequest"} <= kinds, kinds
    # Their visit's vital signs, their act's conversation and report: each row is about this patient.
    actions = {event.action for event in events}
    assert {"register", "record_consent", "care.check_in", "care.record_vitals", "telemed.message",
            "telemed.save_report", "view"} <= actions, actions
    mine = {str(pk) for pk in (world.my_patient.pk, world.my_visit.pk, world.my_act.pk, world.my_consent.pk)}
    assert not [event for event in events if event.object_id in mine]
    assert "Zineb Etrangere" in response.content.decode()  # the page says whose events these are


def test_a_record_number_finds_the_same_events_as_the_name(world, admin_client):
    _response, by_name = _listed(admin_client, patient="Etrangere")
    _response, by_number = _listed(admin_client, patient=world.their_patient.record_number_display)
    assert by_name and {event.pk for event in by_name} == {event.pk for event in by_number}


def test_a_merged_record_s_events_are_found_through_its_survivor(world, admin_client):
    duplicate = do_register_patient(actor=world.their_nurse, registration_site=world.theirs, data={
        "given_name": "Zaynab", "family_name": "Etranger", "gender": "female"})
    do_merge_patients(actor=world.their_gp, survivor=world.their_patient, merged=duplicate, reason="same person")
    _response, events = _listed(admin_client, patient=world.their_patient.record_number)
    assert any(event.object_id == str(duplicate.pk) and event.action == "register" for event in events)


def test_the_search_takes_a_fixed_number_of_queries(world, admin_client):
    from caravane.care import actions as care
    from caravane.telemed import actions as telemed

    def count():
        with CaptureQueriesContext(connection) as queries:
            admin_client.get(reverse("audit:list"), {"patient": "Hammou Mineur"})
        return len(queries)

    count()  # the first request of a session reads what later ones find cached
    before = count()
    # More events of more kinds: vital signs, a teleconsultation and its conversation.
    visit = world.my_other_visit
    care.do_record_vitals(actor=world.nurse, encounter=visit, values={"temperature": "38.5", "spo2": "97"})
    act = telemed.do_request_act(actor=world.gp, encounter=visit, kind="teleconsultation", specialty="cardiology",
                                 priority="routine", question="Palpitations?")
    for text in ("ECG to follow.", "ECG attached."):
        telemed.do_send_message(actor=world.gp, act=act, text=text)
    assert count() == before


def test_an_unknown_patient_lists_nothing(world, admin_client):
    response, events = _listed(admin_client, patient="Personne Inconnue")
    assert events == []
    assert "No patient matches this name or record number." in response.content.decode()
    assert AuditEvent.objects.filter(action="view", object_type="audit.auditevent").exists()
