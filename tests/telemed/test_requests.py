"""Requests: consent is required (and named), the visit's vitals are linked, files are checked and hashed."""

import datetime
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from caravane.patients.actions import do_revoke_consent
from caravane.telemed import actions, selectors
from caravane.telemed.actions import Upload
from caravane.telemed.models import Attachment, ServiceRequest

from .conftest import PDF, PNG, upload

pytestmark = pytest.mark.django_db


def test_request_without_consent_is_refused_and_says_why(visit, people):
    with pytest.raises(ValidationError) as error:
        actions.do_request_act(actor=people.gp, encounter=visit, kind="teleconsultation", specialty="cardiology",
                               priority="routine", question="BP?")
    assert error.value.code == "consent_required"
    assert "No valid consent to teleconsultation" in error.value.messages[0]
    assert not ServiceRequest.objects.exists()


def test_consent_to_another_act_does_not_cover_this_one(request_act):
    with pytest.raises(ValidationError) as error:
        request_act(kind="telemonitoring")
    assert "remote monitoring" in error.value.messages[0]


def test_revoked_consent_is_refused(request_act, consent, people):
    do_revoke_consent(actor=people.gp, consent=consent, reason="Patient changed their mind",
                      on=datetime.date.today())
    with pytest.raises(ValidationError) as error:
        request_act()
    assert error.value.code == "consent_required"


def test_request_records_consent_requester_route_and_sla(request_act, consent, people, network, visit):
    act = request_act(priority="urgent")
    assert act.consent == consent
    assert (act.requester, act.requesting_site, act.encounter) == (people.gp.staff, network.spoke, visit)
    assert act.due_at - act.requested_at == datetime.timedelta(minutes=30)
    assert act.participants.get().role == "requester"
    assert act.transitions.get().to_status == "requested"


def test_the_visits_vitals_and_notes_are_linked_not_copied(request_act):
    act = request_act()
    support = selectors.supporting_information(act)
    assert {o.code for o in support["observations"]} >= {"8480-6", "8462-4", "8867-4"}
    assert set(support["note"]) == {"reason", "history", "examination", "assessment", "plan"}


@pytest.mark.parametrize(("field", "value"), [("kind", "telepathy"), ("priority", "whenever"), ("question", "  "),
                                              ("specialty", "astrology")])
def test_bad_input_names_the_field_and_changes_nothing(request_act, field, value):
    with pytest.raises(ValidationError) as error:
        request_act(**{field: value})
    assert field in error.value.message_dict
    assert not ServiceRequest.objects.exists()


def test_attachments_are_checked_stored_and_hashed(request_act, media):
    act = request_act(uploads=[upload("lesion.png", "image/png", PNG, "photo"),
                               upload("ecg.pdf", "application/pdf", PDF, "ecg")])
    stored = {a.filename: a for a in act.attachments.all()}
    assert set(stored) == {"lesion.png", "ecg.pdf"}
    assert stored["lesion.png"].sha256 == hashlib.sha256(PNG).hexdigest()
    assert stored["ecg.pdf"].size == len(PDF)
    assert stored["lesion.png"].file.read() == PNG
    assert str(act.pk) in stored["lesion.png"].file.name


@pytest.mark.parametrize(("sent", "message"), [
    (("photo.gif", "image/gif", b"GIF89a....", "photo"), "cannot be attached"),
    (("photo.png", "image/png", b"<html>not an image</html>", "photo"), "is not a image/png file"),
    (("empty.pdf", "application/pdf", b"", "document"), "is empty"),
    (("ecg.xml", "application/xml", b"not xml at all", "ecg"), "is not a application/xml file"),
    (("big.png", "image/png", PNG + b"\0" * (10 * 1024 * 1024), "photo"), "larger than 10 MB"),
    (("x.png", "image/png", PNG, "video"), "choose photo, document or ECG"),
])
def test_bad_files_are_refused_naming_the_file(request_act, sent, message):
    with pytest.raises(ValidationError) as error:
        request_act(uploads=[upload(*sent)])
    assert message in error.value.message_dict["attachments"][0]
    assert not ServiceRequest.objects.exists() and not Attachment.objects.exists()


def test_hl7_aecg_xml_is_an_ecg(request_act):
    act = request_act(uploads=[upload("ecg.xml", "application/xml", b"\n  <?xml version='1.0'?><AnnotatedECG/>", "ecg")])
    assert act.attachments.get().category == "ecg"


def test_upload_from_a_form_file_keeps_its_declared_type():
    sent = Upload.from_uploaded(SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf; charset=x"),
                                "document")
    assert (sent.content_type, sent.file.read()) == ("application/pdf", PDF)
