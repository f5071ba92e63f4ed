"""Formats told from content: signatures, real DICOM and WFDB samples, declared types that must match, names."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import translation

from caravane.core import files

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
DICOM_SAMPLES = sorted((SHARED / "dicom").glob("*.dcm"))
WFDB_RECORDS = {"mitdb_100": "100", "challenge2015_v102s": "v102s"}
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="the shared DICOM and ECG samples (../shared) are absent")

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64 + b"\n%%EOF"
WEBP = b"RIFF" + (76).to_bytes(4, "little") + b"WEBPVP8 " + b"\x00" * 64
ECG_ONLY = (files.PDF, files.JPEG, files.PNG, files.HL7_AECG, files.DICOM, files.SCP_ECG, files.WFDB_HEADER,
            files.WFDB_SIGNALS)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def scp_ecg(payload: bytes = b"\x00" * 40) -> bytes:
    """A minimal SCP-ECG record: CRC, record length, then section 0's header (id 0, its length, 'SCPECG')."""
    section = (0).to_bytes(2, "little") + (16 + len(payload)).to_bytes(4, "little") + b"\x14\x14SCPECG" + payload
    body = b"\x00\x00" + section
    return b"\x00\x00" + (6 + len(body)).to_bytes(4, "little") + body


def check(data: bytes, declared: str, accepted=ECG_ONLY, *, name="sent.bin", max_bytes=files.MB, announced=None):
    return files.check_file(ContentFile(data, name=name), name=name, declared=declared, accepted=accepted,
                            max_bytes=max_bytes, accepted_as="ECG recording", announced=announced)


@pytest.mark.parametrize(("data", "declared", "expected"), [
    (JPEG, "image/jpeg", files.JPEG), (JPEG, "image/jpg", files.JPEG), (PNG, "image/png", files.PNG),
    (WEBP, "image/webp", files.WEBP), (PDF, "application/pdf", files.PDF),
    (b"\x00" * 128 + b"DICM" + b"\x02\x00", "application/dicom", files.DICOM),
    (b"\xef\xbb\xbf\n<?xml version='1.0'?>\n<hl7:AnnotatedECG xmlns:hl7='urn:hl7-org:v3'>", "text/xml",
     files.HL7_AECG),
    (scp_ecg(), "application/octet-stream", files.SCP_ECG),
])
def test_each_format_is_recognised_by_its_content(data, declared, expected):
    accepted = (files.JPEG, files.PNG, files.WEBP, *ECG_ONLY)
    assert check(data, declared, accepted) == expected


@pytest.mark.parametrize(("data", "declared", "message"), [
    (PDF, "image/jpeg", "is not a image/jpeg file"),
    (JPEG, "application/dicom", "is not a application/dicom file"),
    (PNG, "application/pdf", "is not a application/pdf file"),
    (b"<html><body>hello</body></html>", "application/xml", "is not a application/xml file"),
    (scp_ecg()[:-1], "application/octet-stream", "none of the formats accepted as ECG recording"),
    (JPEG, "image/gif", "files of type image/gif cannot be attached as ECG recording"),
    (b"", "application/pdf", "is empty"),
    (PDF + b"0" * files.MB, "application/pdf", "is larger than 1 MB"),
])
def test_a_declared_type_must_match_the_content(data, declared, message):
    with pytest.raises(ValidationError) as error:
        check(data, declared, name="scan.pdf")
    assert message in error.value.messages[0] and "scan.pdf" in error.value.messages[0]


def test_only_the_first_bytes_are_read_to_tell_the_format():
    reads = []

    class Recording(ContentFile):
        def read(self, size=-1):
            reads.append(size)
            return super().read(size)

    content = Recording(PDF + b"0" * (4 * files.HEAD_BYTES), name="big.pdf")
    files.check_file(content, name="big.pdf", declared="application/pdf", accepted=(files.PDF,),
                     max_bytes=files.MB, accepted_as="document")
    assert reads == [files.HEAD_BYTES]


@needs_shared
@pytest.mark.parametrize("path", DICOM_SAMPLES, ids=lambda path: path.name)
def test_real_dicom_files_are_dicom_whether_declared_dicom_or_unknown(path):
    data = path.read_bytes()
    assert check(data, "application/dicom", max_bytes=20 * files.MB) == files.DICOM
    assert check(data, "application/octet-stream", max_bytes=20 * files.MB) == files.DICOM
    with pytest.raises(ValidationError):
        check(data, "image/jpeg", max_bytes=20 * files.MB)


@needs_shared
@pytest.mark.parametrize("folder", WFDB_RECORDS)
def test_a_real_wfdb_header_names_its_signal_file_and_its_exact_size(folder):
    record = WFDB_RECORDS[folder]
    header = (SHARED / "ecg" / "wfdb" / folder / f"{record}.hea").read_bytes()
    signals = (SHARED / "ecg" / "wfdb" / folder / f"{record}.dat").read_bytes()
    announced = files.wfdb_signal_files(header, len(header))
    assert announced == {f"{record}.dat": len(signals)}
    assert check(header, "application/octet-stream") == files.WFDB_HEADER
    assert check(signals, "application/octet-stream", name=f"{record}.dat", max_bytes=20 * files.MB,
                 announced=announced) == files.WFDB_SIGNALS


def test_a_wfdb_signal_file_needs_the_header_that_names_it_and_its_size():
    header = b"# two seconds\nrec 1 250 500\nrec.dat 16x2 200 12 0 0 0 0 I\n"
    announced = files.wfdb_signal_files(header, len(header))
    assert announced == {"rec.dat": 2000}
    assert check(b"\x01" * 2000, "application/octet-stream", name="rec.dat", announced=announced) == files.WFDB_SIGNALS
    for name, size, known in (("rec.dat", 1999, announced), ("other.dat", 2000, announced), ("rec.dat", 2000, {})):
        with pytest.raises(ValidationError, match="none of the formats"):
            check(b"\x01" * size, "application/octet-stream", name=name, announced=known)


@pytest.mark.parametrize("text", [
    b"just some notes\nnothing else\n", b"rec 2 250\nrec.dat 16\n", b"rec/2 2 250\nseg1 1000\nseg2 1000\n",
    b"rec 1 250\nrec.dat 999\n", b"rec 1 250\n../etc/passwd 16\n",
])
def test_text_that_is_no_wfdb_header_is_not_taken_for_one(text):
    assert files.wfdb_signal_files(text, len(text)) is None


@pytest.mark.parametrize(("sent", "shown"), [
    ("C:\\Users\\nurse\\scan.pdf", "scan.pdf"), ("../../etc/passwd", "passwd"),
    ("photo\u202egpj.exe", "photogpj.exe"), ("ecg\x00\n 12 leads.xml", "ecg 12 leads.xml"), ("", "file"),
    ("تخطيط القلب.pdf", "تخطيط القلب.pdf"),
])
def test_client_file_names_are_shown_without_paths_or_control_characters(sent, shown):
    assert files.display_name(sent) == shown
