import datetime

import pytest
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.patients.models import Patient

pytestmark = pytest.mark.django_db


def form_data(site, **overrides):
    data = {"registration_site": str(site.pk), "given_name": "Hassan", "family_name": "Ouhammou",
            "given_name_ar": "حسن", "family_name_ar": "أوحمو", "gender": "male", "birth_date": "1980-03-14",
            "national_id": "JB412345", "phone": "06 61 23 45 67", "address": "Douar Tafraout",
            "emergency_contact_name": "Aicha Ouhammou", "emergency_contact_relation": "épouse",
            "emergency_contact_phone": "0700112233", "coverage_type": "amo_tadamon", "coverage_number": "T-778812",
            "coverage_valid_from": "2025-01-01", "coverage_valid_until": "2027-12-31"}
    data.update(overrides)
    return data


def test_a_nurse_registers_a_patient_with_normalised_identifiers(client_for, nurse, site):
    response = client_for(nurse).post(reverse("patients:register"), form_data(site))
    patient = Patient.objects.get()
    assert response.status_code == 302 and response.url == reverse("patients:detail", args=[patient.pk])
    assert patient.phone == "+212661234567" and patient.emergency_contact_phone == "+212700112233"
    assert patient.national_id == "JB412345"
    assert len(patient.record_number) == 17 and patient.registration_site == site
    assert AuditEvent.objects.filter(action="register", object_id=str(patient.pk), actor=nurse.user).count() == 1


@pytest.mark.parametrize("field, value, label", [
    ("birth_date", "future", "Birth date"),
    ("national_id", "123ABC", "National ID (CIN)"),
    ("phone", "0812345678", "Phone"),
    ("emergency_contact_phone", "+33 6 12 34 56 78", "Emergency contact phone"),
    ("coverage_valid_until", "2020-01-01", "Coverage valid until"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(client_for, nurse, site, today, field, value,
                                                                   label):
    if value == "future":
        value = (today + datetime.timedelta(days=3)).isoformat()
    audit_rows = AuditEvent.objects.count()
    with_en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    response = client_for(nurse).post(reverse("patients:register"), form_data(site, **{field: value}), **with_en)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'data-field="{field}"' in response.content.decode()
    assert f"{label}:" in response.content.decode()
    assert Patient.objects.count() == 0
    assert AuditEvent.objects.filter(action="register").count() == 0
    # The attempt itself leaves one row, marked failed.
    assert list(AuditEvent.objects.order_by("-at")[:AuditEvent.objects.count() - audit_rows]
                .values_list("action", "outcome")) == [("open_register", "failed")]


def test_a_birth_year_alone_is_stored_and_shown_as_estimated(client_for, nurse, site):
    client = client_for(nurse)
    client.post(reverse("patients:register"), form_data(site, birth_date="", birth_year="1957"))
    patient = Patient.objects.get()
    assert patient.birth_date.year == 1957 and patient.birth_date_is_estimated
    page = client.get(reverse("patients:detail", args=[patient.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "≈ 1957" in page and "estimated" in page


def test_an_age_becomes_an_estimated_birth_date(client_for, nurse, site, today):
    client_for(nurse).post(reverse("patients:register"), form_data(site, birth_date="", age_years="40"))
    patient = Patient.objects.get()
    assert patient.birth_date_is_estimated and today.year - patient.birth_date.year == 40


def test_birth_date_and_age_together_are_refused(client_for, nurse, site):
    response = client_for(nurse).post(reverse("patients:register"), form_data(site, age_years="40"))
    assert "age_years" in response.context["form"].errors
    assert not Patient.objects.exists()


def test_a_cin_already_registered_is_refused(client_for, nurse, site, register):
    register(given_name="Other", national_id="JB412345")
    response = client_for(nurse).post(reverse("patients:register"), form_data(site))
    assert "national_id" in response.context["form"].errors
    assert Patient.objects.count() == 1


def test_likely_duplicates_are_shown_before_a_new_record_is_created(client_for, nurse, site, register):
    existing = register(given_name="Mohammed", family_name="Ait Ouahmane", birth_date=datetime.date(1975, 5, 2))
    client = client_for(nurse)
    data = form_data(site, given_name="Mhamed", family_name="Aït Ouahmane", given_name_ar="", family_name_ar="",
                     birth_date="1975-05-02", national_id="", phone="")
    response = client.post(reverse("patients:register"), data)
    assert response.status_code == 200
    assert [m.patient for m in response.context["duplicates"]] == [existing]
    assert reverse("patients:detail", args=[existing.pk]) in response.content.decode()
    assert Patient.objects.count() == 1
    response = client.post(reverse("patients:register"), {**data, "confirm_new": "on"})
    assert response.status_code == 302 and Patient.objects.count() == 2


def test_duplicate_check_matches_the_arabic_spelling_of_a_latin_record(client_for, nurse, site, register):
    existing = register(given_name="Mohamed", family_name="Ait Benhaddou", birth_date=datetime.date(1962, 7, 1),
                        birth_date_is_estimated=True)
    data = form_data(site, given_name="", family_name="", given_name_ar="محمد", family_name_ar="آيت بنحدو",
                     birth_date="", birth_year="1963", national_id="", phone="")
    response = client_for(nurse).post(reverse("patients:register"), data)
    assert [m.patient for m in response.context["duplicates"]] == [existing]
    assert Patient.objects.count() == 1


def test_a_pharmacist_cannot_register(client_for, staff_factory, site):
    pharmacist = staff_factory(role="pharmacist", site=site)
    response = client_for(pharmacist).post(reverse("patients:register"), form_data(site))
    assert response.status_code == 403
    assert not Patient.objects.exists()
    assert AuditEvent.objects.filter(action="open_register", outcome="denied", actor=pharmacist.user).exists()
