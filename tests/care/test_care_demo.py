"""The clinical demo: patients, consents, past visits with trends and today's queue, built once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from caravane.audit.models import AuditEvent
from caravane.demo.care import QUEUE_SITE, build_demo_care
from caravane.care.models import Condition, Encounter, MedicationRequest, Observation
from caravane.demo.network import build_demo_network
from caravane.network.models import Site
from caravane.patients.models import Consent, Patient, PatientNameToken
from caravane.patients.search import search_patients

pytestmark = pytest.mark.usefixtures("morocco")


@pytest.fixture(scope="module")
def demo(module_morocco, module_db):
    """The demo, built once for the module's tests (about ten seconds a build)."""
    with module_db.unblock():
        build_demo_network()
        return build_demo_care()


def test_patients_are_registered_at_the_pilot_centres_and_units(demo):
    by_site = Counter(Patient.objects.values_list("registration_site__code", flat=True))
    assert 280 <= sum(by_site.values()) <= 320
    assert {code for code in by_site if code.startswith("rhc-")} == set(
        Site.objects.filter(kind=Site.Kind.RURAL_HEALTH_CENTRE).values_list("code", flat=True))
    assert any(code.startswith("unit-") for code in by_site)
    patients = list(Patient.objects.all())
    assert any(p.given_name and p.given_name_ar for p in patients)  # both scripts
    assert any(not p.given_name and p.given_name_ar for p in patients)  # Arabic only
    assert any(p.national_id is None for p in patients) and any(p.national_id for p in patients)
    assert any(p.birth_date_is_estimated for p in patients)
    assert {p.coverage_type for p in patients} == {"ramed", "amo_tadamon", "amo", "none"}
    today = timezone.localdate()
    assert any(p.coverage_valid_until and p.coverage_valid_until < today for p in patients)  # a few lapsed
    assert 0.7 * len(patients) <= Consent.objects.values("patient").distinct().count() < len(patients)
    assert PatientNameToken.objects.values("patient").distinct().count() == len(patients)


def test_demo_patients_are_found_by_name(demo):
    some = Patient.objects.exclude(family_name="").order_by("record_number").first()
    found = [m.patient for m in search_patients(Patient.objects.all(), some.family_name[:4], limit=200)]
    assert some in found


def test_todays_queue_at_imilchil_has_every_state(demo):
    queue = Encounter.objects.filter(site__code=QUEUE_SITE, service_date=timezone.localdate())
    assert set(queue.values_list("status", flat=True)) == set(Encounter.Status.values)
    for visit in queue.filter(status=Encounter.Status.DONE):
        assert visit.signed_at and visit.observations.exists()
        assert visit.conditions.exists() and visit.medication_requests.exists()
    assert all(v.observations.exists() for v in queue.filter(status=Encounter.Status.WITH_GP))
    assert not Observation.objects.filter(encounter__in=queue.filter(status=Encounter.Status.CHECKED_IN)).exists()
    assert queue.exclude(priority=Encounter.Priority.STANDARD).exists()


def test_running_the_demo_twice_adds_nothing(demo):
    tables = (Patient, Consent, PatientNameToken, Encounter, Observation, Condition, MedicationRequest)
    before = {model: model.objects.count() for model in tables}
    again = build_demo_care()
    assert set(again.created.values()) == {0}
    assert {model: model.objects.count() for model in tables} == before
    assert AuditEvent.objects.filter(action="build_demo_care").count() == 2  # one row per run


def test_a_demo_chart_opens_with_trends(demo):
    gp = Client(headers={"accept-language": "en"})
    assert gp.login(username="gp.imilchil", password="caravane-demo-2026")
    queue = Encounter.objects.filter(site__code=QUEUE_SITE, service_date=timezone.localdate(),
                                     status=Encounter.Status.DONE)
    patient = queue.first().patient
    page = gp.get(reverse("care:chart", args=[patient.pk])).content.decode()
    assert page.count('<svg class="trend"') >= 3
    assert Encounter.objects.filter(patient=patient).count() >= 3
    board = gp.get(reverse("care:queue")).content.decode()
    assert patient.display_name in board or patient.name_ar in board
