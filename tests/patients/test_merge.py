import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.patients.actions import do_merge_patients, do_record_consent
from caravane.patients.models import Consent, Patient, PatientMerge
from caravane.patients.selectors import has_valid_consent, linked_record_ids, patient_consents

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(register, client_for, nurse, today):
    survivor = register(given_name="Mohammed", family_name="Ait Lahcen", birth_date=datetime.date(1970, 4, 2))
    duplicate = register(given_name_ar="محمد", family_name_ar="آيت لحسن", national_id="JC99871",
                         phone="+212662112233", coverage_type="amo", coverage_number="A-55",
                         coverage_valid_until=today + datetime.timedelta(days=100))
    do_record_consent(actor=nurse.user, patient=duplicate, acts=["teleconsultation"], method="signed_paper",
                      period_start=today)
    client_for(nurse).get(reverse("patients:detail", args=[duplicate.pk]))  # an audited reading
    return survivor, duplicate


def encounter_for(patient, site, staff):
    from django.utils import timezone

    from caravane.care.models import Encounter

    return Encounter.objects.create(patient=patient, site=site, service_date=timezone.localdate(),
                                    checked_in_at=timezone.now(), checked_in_by=staff)


def test_merge_keeps_both_records_histories_consents_and_audit(pair, gp, nurse, site):
    survivor, duplicate = pair
    visit = encounter_for(duplicate, site, nurse)
    audit_before = set(AuditEvent.objects.filter(object_id=str(duplicate.pk)).values_list("pk", flat=True))
    merge = do_merge_patients(actor=gp.user, survivor=survivor, merged=duplicate, reason="same CIN card")
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.merged_into == survivor and Patient.objects.count() == 2
    assert duplicate.given_name_ar == "محمد"  # the merged record itself is untouched but for the link
    assert survivor.national_id == "JC99871" and survivor.phone == "+212662112233"
    assert survivor.given_name_ar == "محمد" and survivor.coverage_type == "amo"
    assert merge.merged_before["national_id"] == "JC99871" and merge.survivor_before["national_id"] is None
    visit.refresh_from_db()
    assert visit.patient_id == duplicate.pk and set(linked_record_ids(survivor)) == {survivor.pk, duplicate.pk}
    assert [c.patient_id for c in patient_consents(survivor)] == [duplicate.pk]
    assert has_valid_consent(survivor, act="teleconsultation")
    assert audit_before <= set(AuditEvent.objects.values_list("pk", flat=True))
    merge_row = AuditEvent.objects.get(action="merge")
    assert merge_row.object_id == str(survivor.pk) and merge_row.detail["merged"] == str(duplicate.pk)
    assert PatientMerge.objects.get(merged=duplicate) == merge
    assert Consent.objects.count() == 1


def test_a_merged_record_redirects_to_the_survivor(pair, gp, client_for):
    survivor, duplicate = pair
    do_merge_patients(actor=gp.user, survivor=survivor, merged=duplicate)
    response = client_for(gp).get(reverse("patients:detail", args=[duplicate.pk]))
    assert response.status_code == 302 and response.url == reverse("patients:detail", args=[survivor.pk])
    assert AuditEvent.objects.filter(action="view", object_id=str(duplicate.pk), actor=gp.user).exists()


def test_merging_twice_or_into_itself_is_refused(pair, gp):
    survivor, duplicate = pair
    with pytest.raises(ValidationError):
        do_merge_patients(actor=gp.user, survivor=survivor, merged=survivor)
    do_merge_patients(actor=gp.user, survivor=survivor, merged=duplicate)
    with pytest.raises(ValidationError):
        do_merge_patients(actor=gp.user, survivor=survivor, merged=duplicate)
    assert PatientMerge.objects.count() == 1


def test_merge_page_needs_confirmation_and_the_merge_permission(pair, gp, nurse, client_for):
    survivor, duplicate = pair
    url = reverse("patients:merge", args=[survivor.pk])
    assert client_for(nurse).get(url).status_code == 403
    client = client_for(gp)
    page = client.get(url)
    assert duplicate in [m.patient for m in page.context["suggestions"]]
    response = client.post(url, {"duplicate": duplicate.record_number_display})
    assert response.status_code == 200 and "confirm" in response.context["form"].errors
    assert not PatientMerge.objects.exists()
    response = client.post(url, {"duplicate": duplicate.record_number, "confirm": "on", "reason": "same person"})
    assert response.status_code == 302
    assert Patient.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk


def test_merge_chains_point_to_the_last_survivor(register, gp):
    a, b, c = (register(given_name=n, family_name="Bennani") for n in ("Karim", "Karim", "Kareem"))
    do_merge_patients(actor=gp.user, survivor=b, merged=a)
    do_merge_patients(actor=gp.user, survivor=c, merged=b)
    assert Patient.objects.get(pk=a.pk).merged_into_id == c.pk
    assert set(linked_record_ids(a)) == {a.pk, b.pk, c.pk}


def test_linked_records_are_read_once_per_record_and_forgotten_by_a_merge(register, gp, django_assert_num_queries):
    a, b = (register(given_name="Karim", family_name="Bennani") for _ in range(2))
    assert linked_record_ids(b) == [b.pk]
    with django_assert_num_queries(0):
        assert linked_record_ids(b) == [b.pk]
    do_merge_patients(actor=gp.user, survivor=b, merged=a)
    assert set(linked_record_ids(b)) == {a.pk, b.pk}
