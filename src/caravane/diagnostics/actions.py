"""Filing ECGs and examination photographs: each import reads and checks every file first, then writes its record
in one durable transaction with exactly one audit row. A file that is not what it claims is refused, naming it."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.core import files
from caravane.core.access import Perm
from caravane.devices.models import Device
from caravane.diagnostics import photos, waveforms
from caravane.diagnostics.models import BodySite, EcgRecording, ExaminationImage

MAX_ECG_BYTES = 20 * files.MB
MAX_PHOTO_BYTES = 10 * files.MB
PRINTOUTS = (files.PDF, files.JPEG, files.PNG)


@dataclass(frozen=True)
class Received:
    """A file as the client sent it: its shown name, declared type and content."""

    name: str
    content_type: str
    content: bytes

    @classmethod
    def from_uploaded(cls, uploaded) -> "Received":
        """From a Django UploadedFile (at most the largest accepted size is read)."""
        return cls(files.display_name(uploaded.name), files.declared_type(uploaded.content_type),
                   uploaded.read(MAX_ECG_BYTES + 1))


@dataclass(frozen=True)
class Filing:
    """Where a recording is filed: a visit, or an act (and its visit); the patient follows."""

    encounter: object = None
    act: object = None

    @property
    def target(self):
        return self.act if self.act is not None else self.encounter

    @property
    def patient(self):
        return self.target.patient

    @property
    def site(self):
        return self.act.requesting_site if self.act is not None else self.encounter.site

    def fields(self) -> dict:
        encounter = self.encounter if self.act is None else self.act.encounter
        return {"patient": self.target.patient, "encounter": encounter, "act": self.act}


def _authorize(actor, filing: Filing, action: str):
    if filing.target is None:
        raise ValueError("a recording is filed in a visit or an act")
    gate.require(actor, Perm.RECORD_DIAGNOSTIC, filing.target, audit_action=action,
                 message=_("You may not file recordings for this patient."))
    return gate.staff_of(actor, Perm.RECORD_DIAGNOSTIC, message=_("Only staff members can file recordings."))


def _device(actor, device: Device | None) -> Device | None:
    if device is not None and not Device.objects.restrict(actor, Perm.RECORD_DIAGNOSTIC).filter(
            pk=device.pk, status=Device.Status.ACTIVE).exists():
        raise ValidationError({"device": _("Device: choose an instrument in service at your site.")})
    return device


def _sha256(received: list[Received]) -> str:
    digest = hashlib.sha256()
    for item in sorted(received, key=lambda r: r.name):
        digest.update(item.content)
    return digest.hexdigest()


def _too_large(item: Received, limit: int) -> None:
    if not item.content:
        raise ValidationError(_("%(file)s is empty.") % {"file": item.name})
    if len(item.content) > limit:
        raise ValidationError(_("%(file)s is larger than %(size)d MB.") % {"file": item.name, "size": limit // files.MB})


def read_ecg(received: list[Received]) -> tuple[str, waveforms.Waveform | None, Received]:
    """What the files hold: (source, waveform or None for a print-out, the main file); ValidationError naming the
    file that is not an ECG, is damaged or truncated, or lacks its companion."""
    if not received:
        raise ValidationError(_("ECG: choose a file."))
    for item in received:
        _too_large(item, MAX_ECG_BYTES)
    headers = [r for r in received if files.wfdb_signal_files(r.content[:files.HEAD_BYTES], len(r.content))]
    if headers:
        header = headers[0]
        signals = {r.name: r.content for r in received if r is not header}
        return EcgRecording.Source.WFDB, waveforms.read_wfdb((header.name, header.content), signals), header
    if len(received) > 1:
        raise ValidationError(_("%(file)s: send one ECG file, or a WFDB header with its signal files.") % {
            "file": received[1].name})
    item = received[0]
    kind = files.dicom_kind(item.content[:files.HEAD_BYTES])
    if kind is not None:
        if kind.kind != "ecg":
            raise ValidationError(_("%(file)s is a DICOM %(what)s, not an ECG.") % {"file": item.name,
                                                                                      "what": kind.name})
        return EcgRecording.Source.DICOM, waveforms.read_dicom_ecg(item.name, item.content), item
    found = files.check_file(ContentFile(item.content), name=item.name, declared=item.content_type,
                             accepted=PRINTOUTS + (files.DICOM_ECG,), max_bytes=MAX_ECG_BYTES, accepted_as=_("ECG"))
    if found in (files.JPEG, files.PNG):
        photos.read_photo(item.content, item.name, item.content_type)  # a print-out must decode whole
    return EcgRecording.Source.PRINTOUT, None, item


def _refuse_duplicate(model, filing: Filing, sha256: str, name: str) -> None:
    earlier = model.objects.filter(patient=filing.patient, sha256=sha256).first()
    if earlier is not None:
        raise ValidationError(_("%(file)s is already filed for this patient (%(when)s).") % {
            "file": name, "when": timezone.localtime(earlier.effective_at).strftime("%d/%m/%Y %H:%M")})


def do_import_ecg(*, actor, filing: Filing, received: list[Received], device: Device | None = None,
                  effective_at: datetime.datetime | None = None) -> EcgRecording:
    """File an ECG (WFDB record, DICOM waveform, or a PDF or image print-out) in a visit or an act."""
    staff = _authorize(actor, filing, "diagnostics.import_ecg")
    device = _device(actor, device)
    source, wave, main = read_ecg(received)
    sha256 = _sha256(received)
    _refuse_duplicate(EcgRecording, filing, sha256, main.name)
    recording = EcgRecording(**filing.fields(), device=device, recorded_by=staff, source=source,
                             effective_at=effective_at or timezone.now(), filename=main.name,
                             source_format=str(EcgRecording.Source(source).label), sha256=sha256,
                             size=sum(len(r.content) for r in received))
    if wave is not None:
        rr = waveforms.rr_intervals_ms(wave.r_peaks, wave.sampling_rate)
        recording.leads, recording.units = wave.leads, wave.units
        recording.gains, recording.baselines = [float(g) for g in wave.gains], [int(b) for b in wave.baselines]
        recording.sampling_rate, recording.sample_count = wave.sampling_rate, int(wave.samples.shape[1])
        recording.samples = wave.samples.astype("<i2").tobytes()
        recording.r_peaks = wave.r_peaks.astype("<i4").tobytes()
        recording.heart_rate = waveforms.heart_rate(wave.r_peaks, wave.sampling_rate)
        if rr.size:
            recording.rr_mean_ms, recording.rr_min_ms, recording.rr_max_ms = (
                round(float(rr.mean()), 1), round(float(rr.min()), 1), round(float(rr.max()), 1))
    with transaction.atomic(durable=True):
        if source != EcgRecording.Source.WFDB:
            extension = "dcm" if source == EcgRecording.Source.DICOM else main.name.rsplit(".", 1)[-1][:5].lower()
            recording.file.save(f"ecg.{extension if extension.isalnum() else 'bin'}", ContentFile(main.content),
                                save=False)
        recording.save()
        do_record_audit(actor=actor, action="diagnostics.import_ecg", target=recording, site=filing.site,
                        detail={"patient": str(filing.patient.pk), "source": source, "sha256": sha256,
                                "leads": recording.leads, "act": str(filing.act.pk) if filing.act else None})
    return recording


def do_import_image(*, actor, filing: Filing, received: Received, body_site: str, body_site_detail: str = "",
                    device: Device | None = None) -> ExaminationImage:
    """File an examination photograph (JPEG, PNG or DICOM visible light) in a visit or an act."""
    staff = _authorize(actor, filing, "diagnostics.import_image")
    device = _device(actor, device)
    if body_site not in BodySite.values:
        raise ValidationError({"body_site": _("Body site: choose where the photograph was taken.")})
    _too_large(received, MAX_PHOTO_BYTES)
    photo = photos.read_photo(received.content, received.name, received.content_type)
    sha256 = _sha256([received])
    _refuse_duplicate(ExaminationImage, filing, sha256, received.name)
    taken = timezone.make_aware(photo.taken_at) if photo.taken_at else timezone.now()
    image = ExaminationImage(**filing.fields(), device=device, recorded_by=staff, effective_at=taken,
                             filename=received.name, source_format=photo.format.name, sha256=sha256,
                             size=len(received.content), body_site=body_site,
                             body_site_detail=(body_site_detail or photo.body_site).strip()[:120],
                             width=photo.image.width, height=photo.image.height, device_text=photo.device)
    with transaction.atomic(durable=True):
        image.file.save(f"source.{photo.format.extension}", ContentFile(received.content), save=False)
        image.rendering.save("view.jpg", ContentFile(photo.jpeg(photos.VIEW_PIXELS)), save=False)
        image.thumbnail.save("thumb.jpg", ContentFile(photo.jpeg(photos.THUMBNAIL_PIXELS, quality=75)), save=False)
        image.save()
        do_record_audit(actor=actor, action="diagnostics.import_image", target=image, site=filing.site,
                        detail={"patient": str(filing.patient.pk), "format": photo.format.name, "sha256": sha256,
                                "body_site": body_site, "act": str(filing.act.pk) if filing.act else None})
    return image


def r_peaks_of(recording: EcgRecording) -> np.ndarray:
    """The stored R peaks."""
    return np.frombuffer(bytes(recording.r_peaks or b""), dtype="<i4")
