"""The pages: panels in the visit and the act, import through them, the viewers and their binary samples; foreign
ids and other sites' readers refused without a 500."""

from __future__ import annotations

import gzip
import uuid

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from caravane.diagnostics import actions, waveforms
from caravane.diagnostics.actions import Filing, Received
from caravane.diagnostics.models import EcgRecording, ExaminationImage
from caravane.diagnostics.synthetic import to_dicom_ecg

from .conftest import SHARED, needs_shared

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def test_the_visit_page_offers_the_import_and_a_dicom_ecg_lands_in_the_viewer(visit, people, twelve_lead):
    client = _client(people.nurse)
    page = client.get(reverse("care:visit", args=[visit.pk]))
    assert b'id="diagnostics"' in page.content and reverse("diagnostics:import_visit", args=[visit.pk]).encode() in \
        page.content
    response = client.post(reverse("diagnostics:import_visit", args=[visit.pk]), {
        "kind": "ecg", "files": SimpleUploadedFile("rest.dcm", to_dicom_ecg(twelve_lead), "application/dicom")})
    ecg = EcgRecording.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("diagnostics:ecg", args=[ecg.pk])
    viewer = client.get(response["Location"])
    assert viewer.status_code == 200 and b"10.0 s" in viewer.content and b"72/min" in viewer.content
    samples = client.get(reverse("diagnostics:ecg_samples", args=[ecg.pk]), {"from": 0, "seconds": 10},
                         HTTP_ACCEPT_ENCODING="gzip")
    body = gzip.decompress(samples.content) if samples.get("Content-Encoding") == "gzip" else samples.content
    document = waveforms.parse_document(body)
    assert document.leads == twelve_lead.leads and document.samples.shape == (12, 5000)
    assert len(body) == 20 + 12 * 24 + 12 * 5000 * 2
    chart = client.get(reverse("care:chart", args=[visit.patient_id]))
    assert f'data-ecg="{ecg.pk}"'.encode() in chart.content


def test_a_refused_file_is_named_on_the_import_page_and_nothing_is_kept(visit, people):
    response = _client(people.nurse).post(reverse("diagnostics:import_visit", args=[visit.pk]), {
        "kind": "image", "body_site": "51185008",
        "files": SimpleUploadedFile("mole.png", b"MZ" + b"\0" * 100, "image/png")})
    assert response.status_code == 400 and "mole.png is not a image/png file." in response.content.decode()
    assert not ExaminationImage.objects.exists()


@needs_shared
def test_photographs_of_a_site_over_time_side_by_side_from_the_act(request_act, people):
    act = request_act()
    client = _client(people.gp)
    assert b'id="diagnostics"' in client.get(reverse("telemed:act", args=[act.pk])).content
    for name in ("examples_rgb_color.dcm", "SC_jpeg_no_color_transform.dcm"):
        response = client.post(reverse("diagnostics:import_act", args=[act.pk]), {
            "kind": "image", "body_site": "368208006",
            "files": SimpleUploadedFile(name, (SHARED / "dicom" / name).read_bytes(), "application/dicom")})
        assert response.status_code == 302, response.content
    older, newer = ExaminationImage.objects.order_by("effective_at")
    page = _client(people.cardiologist).get(reverse("diagnostics:image", args=[newer.pk]))
    assert page.status_code == 200
    assert page.context["other"] == older and len(page.context["series"]) == 2
    thumbnail = client.get(reverse("diagnostics:image_file", args=[older.pk, "thumbnail"]))
    assert thumbnail["Content-Type"] == "image/jpeg" and b"".join(thumbnail.streaming_content)[:3] == b"\xff\xd8\xff"


def test_other_sites_and_foreign_ids_are_refused_without_a_500(visit, people, twelve_lead):
    ecg = actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit),
                                received=[Received("ecg.dcm", "application/dicom", to_dicom_ecg(twelve_lead))])
    other = _client(people.other_gp)
    assert other.get(reverse("diagnostics:ecg", args=[ecg.pk])).status_code == 403
    assert other.get(reverse("diagnostics:ecg_samples", args=[ecg.pk])).status_code == 403
    assert other.post(reverse("diagnostics:import_visit", args=[visit.pk]), {"kind": "ecg"}).status_code == 403
    mine = _client(people.gp)
    assert mine.get(reverse("diagnostics:ecg", args=[uuid.uuid4()])).status_code == 404
    assert mine.get(reverse("diagnostics:ecg_samples", args=[ecg.pk]), {"from": "x"}).status_code == 400
    assert mine.get(reverse("diagnostics:image_file", args=[uuid.uuid4(), "view"])).status_code == 404
    bad_device = mine.post(reverse("diagnostics:import_visit", args=[visit.pk]), {"kind": "ecg", "device": "nope"})
    assert bad_device.status_code == 400 and "Device" in bad_device.content.decode()


def test_the_api_gives_a_fhir_observation_with_sampled_data_and_a_media(visit, people, twelve_lead):
    ecg = actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit),
                                received=[Received("ecg.dcm", "application/dicom", to_dicom_ecg(twelve_lead))])
    client = _client(people.gp)
    resource = client.get(f"/api/diagnostics/ecgs/{ecg.pk}", {"data": "true"}).json()
    assert resource["resourceType"] == "Observation" and resource["code"]["coding"][0]["code"] == "11524-6"
    leads = [c for c in resource["component"] if "valueSampledData" in c]
    assert [c["code"]["text"] for c in leads] == twelve_lead.leads
    sampled = leads[1]["valueSampledData"]
    values = np.array(sampled["data"].split(), dtype=float) * sampled["factor"] + sampled["origin"]["value"]
    assert np.allclose(values, twelve_lead.physical(1)) and sampled["period"] == 2.0
    binary = client.get(f"/api/diagnostics/ecgs/{ecg.pk}/samples")
    assert waveforms.parse_document(binary.content).samples.shape == (12, 5000)
    assert _client(people.other_gp).get(f"/api/diagnostics/ecgs/{ecg.pk}").status_code == 403
    assert client.get(f"/api/diagnostics/images/{uuid.uuid4()}").status_code == 404
