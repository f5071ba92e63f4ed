import pytest
from django.urls import reverse

from caravane.core.access import Perm
from caravane.audit.models import AuditEvent
from caravane.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(register):
    return register(given_name="Touria", family_name="Amzil", gender="female")


def test_every_opening_of_the_patient_page_is_audited(client_for, nurse, patient):
    client = client_for(nurse)
    for _ in range(2):
        assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    rows = AuditEvent.objects.filter(action="view", object_id=str(patient.pk), actor=nurse.user, outcome="allowed")
    assert rows.count() == 2


def test_a_user_of_another_site_gets_403_and_an_audit_row(client_for, outsider, patient):
    response = client_for(outsider).get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 403
    denied = AuditEvent.objects.get(object_id=str(patient.pk), outcome="denied")
    assert denied.actor == outsider.user and denied.action == "view"


def test_other_sites_patients_are_absent_from_search(client_for, outsider, patient):
    response = client_for(outsider).get(reverse("patients:search"), {"q": "Touria Amzil"})
    assert response.status_code == 200 and response.context["matches"] == []


def test_a_visit_at_another_site_brings_the_patient_into_its_scope(client_for, outsider, other_site, patient, nurse):
    from django.utils import timezone

    from caravane.care.models import Encounter

    Encounter.objects.create(patient=patient, site=other_site, service_date=timezone.localdate(),
                             checked_in_at=timezone.now(), checked_in_by=nurse)
    assert patient in Patient.objects.restrict(outsider.user, Perm.VIEW_PATIENT)
    client = client_for(outsider)
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    assert [m.patient for m in client.get(reverse("patients:search"), {"q": "Touria"}).context["matches"]] == [patient]


def test_visits_bring_a_patient_and_their_consents_into_scope_once(outsider, other_site, site_factory, patient,
                                                                   nurse, today, yesterday):
    from django.utils import timezone

    from caravane.care.models import Encounter
    from caravane.patients.actions import do_record_consent
    from caravane.patients.models import Consent

    consent = do_record_consent(actor=nurse.user, patient=patient, acts=["teleconsultation"], method="oral",
                                witness_name="Brahim Ouali", period_start=today)
    elsewhere = site_factory(name="Centre de santé Tata")
    Encounter.objects.create(patient=patient, site=elsewhere, service_date=today, checked_in_at=timezone.now(),
                             checked_in_by=nurse)
    assert list(Patient.objects.restrict(outsider.user, Perm.VIEW_PATIENT)) == []
    assert list(Consent.objects.restrict(outsider.user, Perm.VIEW_PATIENT)) == []
    for day in (yesterday, today):
        Encounter.objects.create(patient=patient, site=other_site, service_date=day, checked_in_at=timezone.now(),
                                 checked_in_by=nurse)
    assert list(Patient.objects.restrict(outsider.user, Perm.VIEW_PATIENT)) == [patient]
    assert list(Consent.objects.restrict(outsider.user, Perm.VIEW_PATIENT)) == [consent]


def test_unknown_patient_is_404(client_for, nurse):
    from caravane.core.models import new_uuid7

    assert client_for(nurse).get(reverse("patients:detail", args=[new_uuid7()])).status_code == 404


def test_pages_render_in_arabic_right_to_left(client_for, nurse, patient):
    client = client_for(nurse)
    for url in (reverse("patients:search"), reverse("patients:register"), reverse("patients:detail", args=[patient.pk])):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ar")
        assert response.status_code == 200 and 'dir="rtl"' in response.content.decode()
        assert "<script>" not in response.content.decode()


def test_correcting_a_record_is_audited_with_the_changed_fields(client_for, gp, patient):
    client = client_for(gp)
    url = reverse("patients:edit", args=[patient.pk])
    form = client.get(url).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update({"phone": "0522 11 22 33", "national_id": "", "coverage_type": "none"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    patient.refresh_from_db()
    assert patient.phone == "+212522112233"
    change = AuditEvent.objects.get(action="change", object_id=str(patient.pk))
    assert change.detail["fields"] == ["phone"]


def test_the_patient_page_links_to_the_care_chart(client_for, nurse, patient):
    page = client_for(nurse).get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert reverse("care:chart", args=[patient.pk]) in page
