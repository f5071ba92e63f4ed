import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.patients.actions import do_record_consent, do_revoke_consent
from caravane.patients.models import Consent, ConsentRevocation
from caravane.patients.selectors import coverage_status, has_valid_consent, require_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(register):
    return register(given_name="Zineb", family_name="Ouali", gender="female")


def consent(patient, nurse, today, **kwargs):
    fields = {"acts": ["teleconsultation", "data_sharing"], "method": "oral", "witness_name": "Brahim Ouali",
              "period_start": today}
    fields.update(kwargs)
    return do_record_consent(actor=nurse.user, patient=patient, **fields)


def test_no_consent_means_no_teleconsultation(patient):
    assert not has_valid_consent(patient, act="teleconsultation")
    with pytest.raises(ValidationError) as error:
        require_consent(patient, act="teleconsultation")
    assert error.value.messages[0].startswith("No valid consent to teleconsultation:")
    assert error.value.code == "consent_required"


def test_consent_covers_only_its_acts_and_its_period(patient, nurse, today):
    consent(patient, nurse, today, period_end=today + datetime.timedelta(days=30))
    assert has_valid_consent(patient, act="teleconsultation")
    require_consent(patient, act="teleconsultation")
    assert not has_valid_consent(patient, act="teleexpertise")
    assert not has_valid_consent(patient, act="teleconsultation", on=today + datetime.timedelta(days=31))
    assert not has_valid_consent(patient, act="teleconsultation", on=today - datetime.timedelta(days=1))
    with pytest.raises(ValidationError, match="No valid consent to tele-expertise"):
        require_consent(patient, act="teleexpertise")


def test_revoked_consent_is_refused_and_kept_on_record(patient, nurse, today):
    given = consent(patient, nurse, today - datetime.timedelta(days=10))
    do_revoke_consent(actor=nurse.user, consent=given, reason="Patient changed his mind")
    assert not has_valid_consent(patient, act="teleconsultation")
    assert has_valid_consent(patient, act="teleconsultation", on=today - datetime.timedelta(days=1))
    with pytest.raises(ValidationError, match="No valid consent to teleconsultation"):
        require_consent(patient, act="teleconsultation")
    assert Consent.objects.filter(pk=given.pk).exists()
    assert ConsentRevocation.objects.get(consent=given).revoked_by == nurse
    with pytest.raises(ValidationError):
        do_revoke_consent(actor=nurse.user, consent=given)
    with pytest.raises(RuntimeError):
        given.note = "edited"
        given.save()
    actions = list(AuditEvent.objects.filter(object_id=str(given.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["record_consent", "revoke_consent"]


def test_a_new_consent_after_revocation_restores_the_right(patient, nurse, today):
    do_revoke_consent(actor=nurse.user, consent=consent(patient, nurse, today))
    consent(patient, nurse, today, acts=["teleconsultation"])
    assert has_valid_consent(patient, act="teleconsultation")
    assert Consent.objects.filter(patient=patient).count() == 2


@pytest.mark.parametrize("fields, field", [
    ({"method": "oral", "witness_name": ""}, "witness_name"),
    ({"method": "scanned", "witness_name": ""}, "document"),
    ({"acts": []}, "acts"),
    ({"acts": ["teleportation"]}, "acts"),
])
def test_incomplete_consent_is_refused_naming_the_field(patient, nurse, today, fields, field):
    with pytest.raises(ValidationError) as error:
        consent(patient, nurse, today, **fields)
    assert field in error.value.message_dict
    assert not Consent.objects.exists()


def test_consent_page_records_oral_and_scanned_consents(client_for, nurse, patient, today, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    client = client_for(nurse)
    url = reverse("patients:record_consent", args=[patient.pk])
    response = client.post(url, {"acts": ["teleconsultation"], "method": "oral", "witness_name": "",
                                 "period_start": today.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "witness" in response.content.decode().lower()
    assert not Consent.objects.exists()
    scan = SimpleUploadedFile("consent.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    response = client.post(url, {"acts": ["teleexpertise", "data_sharing"], "method": "scanned",
                                 "period_start": today.isoformat(), "document": scan})
    assert response.status_code == 302
    recorded = Consent.objects.get()
    assert recorded.obtained_by == nurse and recorded.document
    assert has_valid_consent(patient, act="teleexpertise")
    document = client.get(reverse("patients:consent_document", args=[recorded.pk]))
    assert document.status_code == 200 and b"".join(document.streaming_content).startswith(b"%PDF")
    page = client.post(reverse("patients:revoke_consent", args=[recorded.pk]), {"reason": "withdrawn"})
    assert page.status_code == 302 and not has_valid_consent(patient, act="teleexpertise")


@pytest.mark.parametrize(("sent", "declared", "stored_as"), [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png", ".png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg", ".jpg"),
])
def test_a_consent_scan_is_stored_under_a_server_chosen_name(client_for, nurse, patient, today, settings, tmp_path,
                                                            sent, declared, stored_as):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    scan = SimpleUploadedFile("consent.php", sent, content_type=declared)
    response = client_for(nurse).post(reverse("patients:record_consent", args=[patient.pk]), {
        "acts": ["teleconsultation"], "method": "scanned", "period_start": today.isoformat(), "document": scan})
    assert response.status_code == 302
    name = Consent.objects.get().document.name
    assert name.endswith(stored_as) and "consent.php" not in name and ".php" not in name


@pytest.mark.parametrize(("sent", "declared", "message"), [
    (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "application/pdf", "scan.pdf is not a application/pdf file."),
    (b"%PDF-1.4 signed", "image/png", "scan.pdf is not a image/png file."),
    (b"GIF89a" + b"\x00" * 64, "image/gif", "files of type image/gif cannot be attached as the consent document"),
])
def test_a_consent_scan_that_is_not_what_it_claims_is_refused(client_for, nurse, patient, today, settings, tmp_path,
                                                              sent, declared, message):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    scan = SimpleUploadedFile("scan.pdf", sent, content_type=declared)
    response = client_for(nurse).post(reverse("patients:record_consent", args=[patient.pk]), {
        "acts": ["teleconsultation"], "method": "scanned", "period_start": today.isoformat(), "document": scan},
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.context["consent_form"].errors["document"][0]
    assert not Consent.objects.exists() and not any(tmp_path.rglob("*.*"))


def test_lapsed_coverage_is_flagged_on_the_patient_page(register, client_for, nurse, today):
    patient = register(given_name="Omar", coverage_type="ramed", coverage_number="R-1",
                       coverage_valid_from=today - datetime.timedelta(days=400),
                       coverage_valid_until=today - datetime.timedelta(days=5))
    status = coverage_status(patient, on=today)
    assert status.is_lapsed and status.status == "lapsed"
    assert coverage_status(patient, on=today - datetime.timedelta(days=10)).state == "valid"
    page = client_for(nurse).get(reverse("patients:detail", args=[patient.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "coverage lapsed on" in page.content.decode()
