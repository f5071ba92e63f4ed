"""Attachments through the API and the pages: stored under a name the server chooses, with the extension of what
the content is; refused, naming the input and the file, when the declared type and the content disagree."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from caravane.telemed.models import Attachment

from .conftest import PDF, PNG

pytestmark = pytest.mark.django_db

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="the shared DICOM and ECG samples (../shared) are absent")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def _client(user):
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def _attach(client, act, category, *sent):
    files = [SimpleUploadedFile(name, data, content_type=declared) for name, data, declared in sent]
    return client.post(f"/api/telemed/service-requests/{act.pk}/attachments", {"category": category, "files": files})


def _stored_files(media) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


@pytest.fixture
def media_root(settings, media):
    return Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def test_a_client_chosen_name_never_sets_the_stored_extension(request_act, people, media_root):
    act = request_act()
    response = _attach(_client(people.gp), act, "photo", ("evil.php", PNG, "image/png"))
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    stored = Path(attachment.file.name)
    assert stored.suffix == ".png" and "evil" not in stored.name and "php" not in attachment.file.name
    assert (attachment.filename, attachment.content_type) == ("evil.php", "image/png")
    assert [path.suffix for path in _stored_files(media_root)] == [".png"]


@pytest.mark.parametrize(("category", "sent", "message"), [
    ("photo", ("scan.jpg", PDF, "image/jpeg"), "scan.jpg is not a image/jpeg file."),
    ("document", ("report.pdf", PNG, "application/pdf"), "report.pdf is not a application/pdf file."),
    ("ecg", ("ecg.dcm", JPEG, "application/dicom"), "ecg.dcm is not a application/dicom file."),
    ("ecg", ("trace.bin", JPEG, "application/octet-stream"), "trace.bin is none of the formats accepted as ECG"),
])
def test_content_that_is_not_its_declared_type_is_refused_and_nothing_stored(request_act, people, media_root,
                                                                             category, sent, message):
    fine = ("fine.png", PNG, "image/png") if category == "photo" else ("fine.pdf", PDF, "application/pdf")
    response = _attach(_client(people.gp), request_act(), category, fine, sent)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["field"] == "files" and errors[0]["message"].startswith(message)
    assert not Attachment.objects.exists() and _stored_files(media_root) == []


def test_the_request_page_names_the_input_whose_file_is_refused(people, visit, consent, media_root):
    from caravane.telemed.models import ServiceRequest

    response = _client(people.gp).post(reverse("telemed:request", args=[visit.pk]), {
        "kind": "teleconsultation", "specialty": "cardiology", "priority": "urgent", "question": "Syncope",
        "ecgs": SimpleUploadedFile("ecg.pdf", JPEG, content_type="application/pdf")})
    assert response.status_code == 400
    assert response.context["form"].errors["ecgs"] == ["ecg.pdf is not a application/pdf file."]
    assert not ServiceRequest.objects.exists() and _stored_files(media_root) == []


@needs_shared
def test_a_dicom_image_is_not_an_ecg_but_a_dicom_photograph_is_a_photo(request_act, people, media_root):
    act, client = request_act(), _client(people.gp)
    ct = (SHARED / "dicom" / "CT_small.dcm").read_bytes()
    refused = _attach(client, act, "ecg", ("ct.dcm", ct, "application/dicom"))
    assert refused.status_code == 400 and refused.json()["errors"][0]["message"].startswith("ct.dcm is not a")
    assert not Attachment.objects.exists()
    sample = SHARED / "dicom" / "examples_rgb_color.dcm"
    response = _attach(client, act, "photo", ("colour", sample.read_bytes(), "application/dicom"))
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    assert attachment.content_type == "application/dicom" and attachment.file.name.endswith(".dcm")
    assert attachment.size == sample.stat().st_size


@needs_shared
def test_a_wfdb_record_is_accepted_with_its_header_and_not_without(request_act, people, media_root):
    folder = SHARED / "ecg" / "wfdb" / "mitdb_100"
    header, signals = (folder / "100.hea").read_bytes(), (folder / "100.dat").read_bytes()
    act, client = request_act(), _client(people.gp)
    alone = _attach(client, act, "ecg", ("100.dat", signals, "application/octet-stream"))
    assert alone.status_code == 400 and "100.dat is none of the formats" in alone.json()["errors"][0]["message"]
    truncated = _attach(client, act, "ecg", ("100.hea", header, "application/octet-stream"),
                        ("100.dat", signals[:-3], "application/octet-stream"))
    assert truncated.status_code == 400 and not Attachment.objects.exists()
    record = _attach(client, act, "ecg", ("100.hea", header, "application/octet-stream"),
                     ("100.dat", signals, "application/octet-stream"))
    assert record.status_code == 201, record.content
    stored = {a.filename: a for a in Attachment.objects.all()}
    assert stored["100.hea"].file.name.endswith(".hea") and stored["100.hea"].content_type == "text/plain"
    assert stored["100.dat"].file.name.endswith(".dat") and stored["100.dat"].size == len(signals)
