"""ECGs and photographs filed through their actions: read from the public samples and built files, every lead at
its length, rate plausible; refused naming the file when they are not what they claim, nothing half-saved."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from caravane.audit.models import AuditEvent
from caravane.diagnostics import actions, waveforms
from caravane.diagnostics.actions import Filing, Received
from caravane.diagnostics.models import EcgRecording, ExaminationImage
from caravane.diagnostics.synthetic import to_dicom_ecg

from .conftest import SHARED, needs_shared, wfdb_files

pytestmark = pytest.mark.django_db


def _received(files):
    return [Received(name, "application/octet-stream", content) for name, content in files]


@needs_shared
@pytest.mark.parametrize(("record", "leads", "seconds", "rate"), [
    ("mitdb_100", ["MLII", "V5"], 1805.6, (60, 90)),
    ("challenge2015_v102s", ["II", "V", "PLETH", "RESP"], 300.0, (40, 180)),
])
def test_a_public_wfdb_record_is_read_whole_with_a_plausible_rate(visit, people, record, leads, seconds, rate):
    ecg = actions.do_import_ecg(actor=people.nurse, filing=Filing(encounter=visit), received=_received(
        wfdb_files(record)))
    ecg = EcgRecording.objects.get(pk=ecg.pk)
    assert ecg.leads == leads and ecg.source == "wfdb"
    assert ecg.duration == pytest.approx(seconds, abs=0.1)
    assert len(bytes(ecg.samples)) == 2 * len(leads) * ecg.sample_count  # int16, not text
    assert rate[0] < ecg.heart_rate < rate[1]
    assert ecg.rr_min_ms <= ecg.rr_mean_ms <= ecg.rr_max_ms
    # The stored integers give back the record's own physical values.
    import wfdb

    folder = SHARED / "ecg" / "wfdb" / record
    physical = wfdb.rdrecord(str(folder / folder.iterdir().__next__().stem), sampto=2000).p_signal
    document = waveforms.parse_document(waveforms.document(ecg.leads, ecg.units, ecg.gains, ecg.baselines,
                                                           ecg.sampling_rate, bytes(ecg.samples), ecg.sample_count,
                                                           0, 2000))
    for index in range(len(leads)):
        assert np.allclose(document.physical(index), physical[:, index], atol=1e-3, equal_nan=True)
    assert AuditEvent.objects.filter(action="diagnostics.import_ecg").count() == 1


def test_a_dicom_12_lead_ecg_is_read_with_every_lead(visit, people, twelve_lead):
    content = to_dicom_ecg(twelve_lead)
    ecg = actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit),
                                received=[Received("ecg.dcm", "application/dicom", content)])
    assert ecg.source == "dicom" and ecg.leads == twelve_lead.leads and ecg.sampling_rate == 500
    assert ecg.duration == pytest.approx(10.0)
    assert 68 < ecg.heart_rate < 76
    assert ecg.gains == [pytest.approx(200.0)] * 12
    stored = np.frombuffer(bytes(ecg.samples), dtype="<i2").reshape(12, -1)
    assert (stored == twelve_lead.samples).all()


def test_a_general_ecg_without_preamble_and_a_single_lead(visit, people, twelve_lead):
    single = waveforms.Waveform(["II"], 500.0, twelve_lead.samples[1:2], [200.0], [0], ["mV"])
    content = to_dicom_ecg(single, sop_class="1.2.840.10008.5.1.4.1.1.9.1.2", preamble=False)
    ecg = actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit),
                                received=[Received("lead2", "application/octet-stream", content)])
    assert ecg.leads == ["II"] and 68 < ecg.heart_rate < 76


@needs_shared
@pytest.mark.parametrize("name", ["examples_rgb_color.dcm", "SC_jpeg_no_color_transform.dcm"])
def test_a_dicom_photograph_is_not_an_ecg(visit, people, name):
    with pytest.raises(ValidationError) as refused:
        actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit),
                              received=[Received(name, "application/dicom", (SHARED / "dicom" / name).read_bytes())])
    assert refused.value.messages[0].startswith(f"{name} is a DICOM") and "not an ECG" in refused.value.messages[0]
    assert not EcgRecording.objects.exists()


@needs_shared
def test_a_truncated_or_foreign_wfdb_signal_file_is_refused_naming_it(visit, people):
    (header, hea), (signals, dat) = wfdb_files("mitdb_100")
    for sent in ([(header, hea), (signals, dat[:-100])], [(header, hea)]):
        with pytest.raises(ValidationError) as refused:
            actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit), received=_received(sent))
        assert "100.dat" in refused.value.messages[0] or "100.hea" in refused.value.messages[0]
    assert not EcgRecording.objects.exists()


@pytest.mark.parametrize(("name", "declared", "content", "expected"), [
    ("trace.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 64, None),
    ("trace.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 40, "trace.jpg is damaged or truncated"),
    ("trace.dcm", "application/dicom", b"MZ\x90\x00" + b"\x00" * 300, "trace.dcm is not a application/dicom file"),
    ("trace.dat", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 300, "trace.dat is none of the formats"),
    ("empty.hea", "application/octet-stream", b"", "empty.hea is empty."),
])
def test_a_print_out_is_kept_and_a_bad_file_refused(visit, people, name, declared, content, expected):
    received = [Received(name, declared, content)]
    if expected is None:
        ecg = actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit), received=received)
        assert ecg.source == "printout" and ecg.file.name.endswith(".pdf") and not ecg.has_samples
        return
    with pytest.raises(ValidationError) as refused:
        actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit), received=received)
    assert refused.value.messages[0].startswith(expected)
    assert not EcgRecording.objects.exists()


def test_the_same_file_twice_is_filed_once(visit, people, twelve_lead):
    received = [Received("ecg.dcm", "application/dicom", to_dicom_ecg(twelve_lead))]
    actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit), received=received)
    with pytest.raises(ValidationError, match="ecg.dcm is already filed"):
        actions.do_import_ecg(actor=people.gp, filing=Filing(encounter=visit), received=received)
    assert EcgRecording.objects.count() == 1


def test_somebody_else_s_visit_is_refused_by_the_gate(visit, people, twelve_lead):
    with pytest.raises(PermissionDenied):
        actions.do_import_ecg(actor=people.other_gp, filing=Filing(encounter=visit),
                              received=[Received("ecg.dcm", "application/dicom", to_dicom_ecg(twelve_lead))])
    assert not EcgRecording.objects.exists()
    assert AuditEvent.objects.filter(action="diagnostics.import_ecg", outcome="denied").count() == 1


@needs_shared
@pytest.mark.parametrize("name", ["examples_rgb_color.dcm", "SC_jpeg_no_color_transform.dcm"])
def test_the_shared_dicom_photographs_import_with_a_thumbnail(visit, people, name):
    from PIL import Image

    image = actions.do_import_image(actor=people.nurse, filing=Filing(encounter=visit), body_site="51185008",
                                    received=Received(name, "application/dicom",
                                                      (SHARED / "dicom" / name).read_bytes()))
    image = ExaminationImage.objects.get(pk=image.pk)
    thumbnail = Image.open(image.thumbnail.open("rb"))
    assert thumbnail.format == "JPEG" and max(thumbnail.size) <= 256 and thumbnail.mode == "RGB"
    assert (image.width, image.height) == Image.open(image.rendering.open("rb")).size
    assert image.source_format == "DICOM photograph" and image.file.name.endswith(".dcm")


@needs_shared
def test_a_photograph_without_its_preamble_imports(visit, people):
    content = (SHARED / "dicom" / "examples_rgb_color.dcm").read_bytes()[128:]
    image = actions.do_import_image(actor=people.nurse, filing=Filing(encounter=visit), body_site="51185008",
                                    received=Received("bare.dcm", "application/octet-stream", content))
    assert image.width == 320


@needs_shared
@pytest.mark.parametrize(("name", "cut", "message"), [
    ("CT_small.dcm", None, "CT_small.dcm is a DICOM CT Image Storage, not a photograph."),
    ("MR_small.dcm", None, "MR_small.dcm is a DICOM MR Image Storage, not a photograph."),
    ("examples_rgb_color.dcm", 20000, "examples_rgb_color.dcm is damaged or truncated"),
])
def test_a_dicom_that_is_no_photograph_or_is_truncated_is_refused_naming_it(visit, people, name, cut, message):
    content = (SHARED / "dicom" / name).read_bytes()
    with pytest.raises(ValidationError) as refused:
        actions.do_import_image(actor=people.nurse, filing=Filing(encounter=visit), body_site="51185008",
                                received=Received(name, "application/dicom", content[:cut]))
    assert refused.value.messages[0].startswith(message)
    assert not ExaminationImage.objects.exists()


def _png(mode="RGB", size=(40, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, 120).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("name", "declared", "content", "message"), [
    ("mole.png", "image/png", _png()[:-30], "mole.png is damaged or truncated"),
    ("mole.jpg", "image/jpeg", _png(), "mole.jpg is not a image/jpeg file."),
    ("setup.png", "application/octet-stream", b"MZ" + b"\x00" * 200, "setup.png is none of the formats"),
])
def test_a_bad_photograph_is_refused_naming_it(visit, people, name, declared, content, message):
    with pytest.raises(ValidationError) as refused:
        actions.do_import_image(actor=people.nurse, filing=Filing(encounter=visit), body_site="51185008",
                                received=Received(name, declared, content))
    assert refused.value.messages[0].startswith(message)
    assert not ExaminationImage.objects.exists()


def test_a_dicom_ecg_is_not_a_photograph(visit, people, twelve_lead):
    with pytest.raises(ValidationError, match="ecg.dcm is a DICOM ECG, not a photograph"):
        actions.do_import_image(actor=people.nurse, filing=Filing(encounter=visit), body_site="51185008",
                                received=Received("ecg.dcm", "application/dicom", to_dicom_ecg(twelve_lead)))


def test_a_grey_png_is_a_photograph_and_the_body_site_is_required(visit, people):
    with pytest.raises(ValidationError):
        actions.do_import_image(actor=people.nurse, filing=Filing(encounter=visit), body_site="nowhere",
                                received=Received("mole.png", "image/png", _png("L")))
    image = actions.do_import_image(actor=people.nurse, filing=Filing(encounter=visit), body_site="85151006",
                                    received=Received("mole.png", "image/png", _png("L")))
    assert image.get_body_site_display() == "Left hand" and AuditEvent.objects.filter(
        action="diagnostics.import_image", outcome="allowed").count() == 1


def test_the_demo_files_its_ecgs_once(visit, people, network):
    from caravane.demo.diagnostics import build_demo_diagnostics

    network.spoke.code = "rhc-imilchil"
    network.spoke.save()
    people.gp.username = "gp.imilchil"
    people.gp.save()
    filed = build_demo_diagnostics()
    assert filed == EcgRecording.objects.filter(encounter=visit).count() >= 1
    assert build_demo_diagnostics() == 0
