"""What an uploaded file really is, told from its content: read from disk in chunks, never whole.

A client's file name and declared content type are claims. ``check_file`` accepts a file only when its content
is of a format accepted at that place and the declared type is one that format answers to; the format then
gives the type it is stored and served as and the extension of the name the server chooses for it.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MB = 1024 * 1024
# Enough for every signature below, and for a whole WFDB header (a few lines per signal).
HEAD_BYTES = 64 * 1024
# What browsers and HTTP clients declare for a file whose type they do not know.
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class Format:
    """A file format: its name, the type it is stored and served as, its extension, the content types a client
    may declare for it, and the test of a file's first bytes (and size) that recognises it."""

    name: str
    media_type: str
    extension: str
    declared_as: frozenset[str]
    recognises: Callable[[bytes, int], bool] | None  # None: recognised by its companion files, not its content


def _starts_with(*signatures: bytes) -> Callable[[bytes, int], bool]:
    return lambda head, size: head.startswith(signatures)


def _is_webp(head: bytes, size: int) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _is_dicom(head: bytes, size: int) -> bool:
    # DICOM Part 10: a 128-byte preamble, then the magic "DICM".
    return head[128:132] == b"DICM"


# DICOM storage classes (PS3.4 annex B): waveform ECGs, and the visible-light and secondary-capture images that
# are photographs whatever their colours. Other image classes count as photographs only in colour (an ultrasound
# screen capture); a grey CT or MR slice is not one.
DICOM_ECG_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.9.1.1", "1.2.840.10008.5.1.4.1.1.9.1.2",
                               "1.2.840.10008.5.1.4.1.1.9.1.3"})
_DICOM_PHOTO_PREFIXES = ("1.2.840.10008.5.1.4.1.1.77.1.", "1.2.840.10008.5.1.4.1.1.7")
_COLOUR = ("RGB", "YBR_", "PALETTE")


@dataclass(frozen=True)
class DicomKind:
    """What a DICOM object holds: ``ecg``, ``photo`` or ``other``, with its storage class's name."""

    kind: str
    sop_class: str
    name: str


def dicom_readable(content: bytes) -> bytes:
    """DICOM content as pydicom reads it: a Part 10 file that lost its preamble gets an empty one back."""
    return bytes(128) + content if content.startswith(b"DICM") else content


def dicom_kind(head: bytes) -> DicomKind | None:
    """What the DICOM object starting with ``head`` is (Part 10 with or without its 128-byte preamble, or a bare
    dataset); None when it is not DICOM or names no storage class."""
    import pydicom
    from pydicom.uid import UID

    head = dicom_readable(head)
    if head[128:132] != b"DICM" and head[:2] not in (b"\x02\x00", b"\x08\x00"):
        return None
    try:
        dataset = pydicom.dcmread(io.BytesIO(head), force=True, stop_before_pixels=True)
        sop_class = str(dataset.get("SOPClassUID") or getattr(dataset.get("file_meta"), "MediaStorageSOPClassUID", ""))
        photometric = str(dataset.get("PhotometricInterpretation", ""))
    except Exception:  # pydicom raises many kinds on damaged input; any of them means "not readable DICOM"
        return None
    if not sop_class.startswith("1.2.840.10008."):
        return None
    name = UID(sop_class).name
    if sop_class in DICOM_ECG_CLASSES:
        return DicomKind("ecg", sop_class, name)
    is_image = "Image" in name or sop_class.startswith(_DICOM_PHOTO_PREFIXES)
    if is_image and (sop_class.startswith(_DICOM_PHOTO_PREFIXES) or photometric.startswith(_COLOUR)):
        return DicomKind("photo", sop_class, name)
    return DicomKind("other", sop_class, name)


def _is_dicom_of(kind: str) -> Callable[[bytes, int], bool]:
    def recognises(head: bytes, size: int) -> bool:
        found = dicom_kind(head)
        return found is not None and found.kind == kind
    return recognises


_AECG_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?AnnotatedECG[\s/>]")


def _is_hl7_aecg(head: bytes, size: int) -> bool:
    # HL7 annotated ECG: XML (optional byte-order mark and blank lines first) whose root is AnnotatedECG.
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return text.startswith(b"<") and _AECG_ROOT.search(text) is not None


def _is_scp_ecg(head: bytes, size: int) -> bool:
    # SCP-ECG (EN 1064): a CRC, the record's length in bytes (little-endian), then the header of section 0.
    if len(head) < 22:
        return False
    record_length = int.from_bytes(head[2:6], "little")
    section_id = int.from_bytes(head[8:10], "little")
    section_length = int.from_bytes(head[10:14], "little")
    return record_length == size and section_id == 0 and 16 <= section_length <= size - 6


# WFDB signal formats: bits per sample where a file's size follows from its sample count; None where samples are
# packed in groups or compressed (the size is then not checked).
WFDB_SAMPLE_BITS = {8: 8, 16: 16, 24: 24, 32: 32, 61: 16, 80: 8, 160: 16, 212: 12,
                    310: None, 311: None, 508: None, 516: None, 524: None}
_WFDB_RECORD_NAME = re.compile(r"[A-Za-z0-9_]+")
_WFDB_FORMAT = re.compile(r"(?P<code>\d+)(?:x(?P<frames>\d+))?(?::\d+)?(?:\+(?P<offset>\d+))?")
_WFDB_FILE_NAME = re.compile(r"[\w.-]+")


def wfdb_signal_files(head: bytes, size: int) -> dict[str, int | None] | None:
    """The signal files a WFDB header names, each with the size in bytes it must have (None when the header does
    not tell); None when the content is not a single-segment WFDB header."""
    if size > len(head):
        return None
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    record = lines[0].split() if lines else []
    if len(record) < 2 or not _WFDB_RECORD_NAME.fullmatch(record[0]) or not record[1].isdigit():
        return None
    count = int(record[1])
    samples = int(record[3]) if len(record) > 3 and record[3].isdigit() else None
    if count < 1 or len(lines) < 1 + count:
        return None
    bits_per_frame: dict[str, int | None] = {}
    for line in lines[1:1 + count]:
        fields = line.split()
        found = _WFDB_FORMAT.fullmatch(fields[1]) if len(fields) > 1 else None
        if found is None or not _WFDB_FILE_NAME.fullmatch(fields[0]) or int(found["code"]) not in WFDB_SAMPLE_BITS:
            return None
        # Signals may share a file: its frame holds each one's samples; a byte offset leaves its size unknown.
        file_name, bits, so_far = fields[0], WFDB_SAMPLE_BITS[int(found["code"])], bits_per_frame.get(fields[0], 0)
        known = bits is not None and so_far is not None and not found["offset"]
        bits_per_frame[file_name] = so_far + bits * int(found["frames"] or 1) if known else None
    return {name: math.ceil(samples * bits / 8) if samples is not None and bits is not None else None
            for name, bits in bits_per_frame.items()}


JPEG = Format("JPEG", "image/jpeg", "jpg", frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}),
              _starts_with(b"\xff\xd8\xff"))
PNG = Format("PNG", "image/png", "png", frozenset({"image/png", "image/x-png"}), _starts_with(b"\x89PNG\r\n\x1a\n"))
WEBP = Format("WebP", "image/webp", "webp", frozenset({"image/webp"}), _is_webp)
PDF = Format("PDF", "application/pdf", "pdf", frozenset({"application/pdf", "application/x-pdf"}),
             _starts_with(b"%PDF-"))
DICOM = Format("DICOM", "application/dicom", "dcm", frozenset({"application/dicom", OCTET_STREAM}), _is_dicom)
# A file must be what it claims: a DICOM image is not an ECG, and a DICOM ECG is not a photograph.
DICOM_ECG = Format("DICOM ECG waveform", "application/dicom", "dcm", frozenset({"application/dicom", OCTET_STREAM}),
                   _is_dicom_of("ecg"))
DICOM_PHOTO = Format("DICOM photograph", "application/dicom", "dcm", frozenset({"application/dicom", OCTET_STREAM}),
                     _is_dicom_of("photo"))
HL7_AECG = Format("HL7 aECG", "application/xml", "xml", frozenset({"application/xml", "text/xml"}), _is_hl7_aecg)
SCP_ECG = Format("SCP-ECG", OCTET_STREAM, "scp", frozenset({OCTET_STREAM}), _is_scp_ecg)
WFDB_HEADER = Format("WFDB (.hea)", "text/plain", "hea", frozenset({OCTET_STREAM, "text/plain"}),
                     lambda head, size: wfdb_signal_files(head, size) is not None)
# A call's recording as browsers make it (MediaRecorder): Matroska/WebM, an EBML header first.
WEBM = Format("WebM", "video/webm", "webm", frozenset({"video/webm", "audio/webm"}),
              _starts_with(b"\x1a\x45\xdf\xa3"))
# A WFDB signal file has no signature: it is accepted when a header sent with it names it (and gives its size).
WFDB_SIGNALS = Format("WFDB (.dat, with its .hea)", OCTET_STREAM, "dat", frozenset({OCTET_STREAM}), None)


def declared_type(content_type: str | None) -> str:
    """A declared content type without its parameters, in lower case ("" when none was given)."""
    return (content_type or "").split(";")[0].strip().lower()


def head(file) -> bytes:
    """The first bytes of a file, enough to tell its format."""
    file.seek(0)
    data = file.read(HEAD_BYTES)
    file.seek(0)
    return data


def sha256(file) -> str:
    """The SHA-256 of a Django File's content, read in chunks."""
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    return digest.hexdigest()


# Bidirectional overrides and isolates could make "gpj.exe" read as "exe.jpg"; no control character either.
_UNSHOWABLE = {"Cc", "Cf"}


def display_name(name: str | None, limit: int = 200) -> str:
    """A client's file name fit to be shown: its last path component, without control or direction characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    shown = "".join(char for char in base if unicodedata.category(char) not in _UNSHOWABLE)
    return " ".join(shown.split())[:limit] or "file"


def check_file(file, *, name: str, declared: str, accepted: Iterable[Format], max_bytes: int, accepted_as: str,
               announced: Mapping[str, int | None] | None = None) -> Format:
    """The format of ``file``, one of ``accepted``; a ValidationError naming the file when it is empty, larger
    than ``max_bytes``, declared as a type not accepted here, or not what it is declared to be.

    ``announced`` holds the WFDB signal files that headers sent along name, with their expected sizes.
    """
    size = file.size
    if not size:
        raise ValidationError(_("%(file)s is empty.") % {"file": name})
    if size > max_bytes:
        raise ValidationError(_("%(file)s is larger than %(size)d MB.") % {"file": name, "size": max_bytes // MB})
    accepted = tuple(accepted)
    candidates = [fmt for fmt in accepted if declared in fmt.declared_as]
    if not candidates:
        raise ValidationError(_("%(file)s: files of type %(type)s cannot be attached as %(category)s.") % {
            "file": name, "type": declared or "?", "category": accepted_as})
    first_bytes = head(file)
    for fmt in candidates:
        if fmt.recognises is not None and fmt.recognises(first_bytes, size):
            return fmt
    announced = announced or {}
    if WFDB_SIGNALS in candidates and name in announced and announced[name] in (None, size):
        return WFDB_SIGNALS
    if declared != OCTET_STREAM:
        raise ValidationError(_("%(file)s is not a %(type)s file.") % {"file": name, "type": declared})
    raise ValidationError(_("%(file)s is none of the formats accepted as %(category)s: %(formats)s.") % {
        "file": name, "category": accepted_as, "formats": ", ".join(fmt.name for fmt in accepted)})
