"""Pages of ECGs and photographs: the viewers, their binary samples and images, and the import of files into a
visit or an act. Each view asks the gate once, then hands over to a selector or an action."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from caravane.audit import gate
from caravane.care.models import Encounter
from caravane.core.access import Perm
from caravane.core.errors import messages_by_field
from caravane.devices.models import Device
from caravane.diagnostics import actions, selectors, waveforms
from caravane.diagnostics.models import BodySite, EcgRecording, ExaminationImage
from caravane.telemed.models import ServiceRequest

MAX_WINDOW_SECONDS = 600  # one request of samples: ten minutes at most


def _ecg(request, pk, action: str) -> EcgRecording:
    return gate.get(request.user, EcgRecording.objects.select_related("patient", "device", "recorded_by"), pk,
                    Perm.VIEW_DIAGNOSTIC, audit_action=action)


def ecg(request, pk):
    """The ECG viewer: paper grid, 12-lead layout with a rhythm strip, zoom and calipers; rate as computed."""
    recording = _ecg(request, pk, "diagnostics.view_ecg")
    peaks = actions.r_peaks_of(recording)
    return render(request, "diagnostics/ecg.html", {
        "ecg": recording, "patient": recording.patient,
        "meta": {"leads": recording.leads, "units": recording.units, "rate": recording.sampling_rate,
                 "count": recording.sample_count, "peaks": peaks.tolist(), "hasSamples": recording.has_samples},
    })


def ecg_samples(request, pk):
    """A window of an ECG's samples as the binary document (``?from=`` sample, ``&seconds=``; the whole record
    when neither is given, up to ten minutes)."""
    recording = _ecg(request, pk, "diagnostics.read_ecg_samples")
    if not recording.has_samples:
        raise Http404(_("This ECG is a print-out: it has no samples."))
    try:
        start = max(0, int(request.GET.get("from", 0)))
        seconds = min(MAX_WINDOW_SECONDS, max(1, int(request.GET.get("seconds", MAX_WINDOW_SECONDS))))
    except ValueError:
        return HttpResponse(_("from and seconds are whole numbers."), status=400, content_type="text/plain")
    body = waveforms.document(recording.leads, recording.units, recording.gains, recording.baselines,
                              recording.sampling_rate, bytes(recording.samples), recording.sample_count, start,
                              int(seconds * recording.sampling_rate))
    response = HttpResponse(body, content_type="application/vnd.caravane.ecg")
    response["Cache-Control"] = "private, max-age=3600"  # a recording never changes (append-only)
    return response


def ecg_file(request, pk):
    """The file an ECG came in (a print-out or a DICOM object)."""
    recording = _ecg(request, pk, "diagnostics.download_ecg")
    if not recording.file:
        raise Http404(_("This ECG was read from a WFDB record: its samples are stored, not a file."))
    inline = recording.filename.lower().endswith((".pdf", ".jpg", ".jpeg", ".png"))
    return FileResponse(recording.file.open("rb"), as_attachment=not inline, filename=recording.filename)


def _image(request, pk, action: str) -> ExaminationImage:
    return gate.get(request.user, ExaminationImage.objects.select_related("patient", "device", "recorded_by"), pk,
                    Perm.VIEW_DIAGNOSTIC, audit_action=action)


def image(request, pk):
    """A photograph with zoom and pan, beside the earlier photographs of the same body site."""
    photo = _image(request, pk, "diagnostics.view_image")
    series = selectors.same_site_series(photo)
    earlier = [item for item in series if item.effective_at < photo.effective_at]
    compare = request.GET.get("compare")
    other = next((item for item in series if str(item.pk) == compare), earlier[-1] if earlier else None)
    return render(request, "diagnostics/image.html", {"image": photo, "patient": photo.patient, "series": series,
                                                       "other": other if other != photo else None})


RENDITIONS = {"view": ("rendering", "image/jpeg"), "thumbnail": ("thumbnail", "image/jpeg")}


def image_file(request, pk, rendition):
    """A photograph's rendering, thumbnail, or source file."""
    photo = _image(request, pk, "diagnostics.read_image")
    if rendition == "source":
        return FileResponse(photo.file.open("rb"), as_attachment=True, filename=photo.filename)
    if rendition not in RENDITIONS:
        raise Http404
    field, content_type = RENDITIONS[rendition]
    response = FileResponse(getattr(photo, field).open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


def _import(request, filing: actions.Filing):
    files, kind = request.FILES.getlist("files"), request.POST.get("kind")
    device = None
    if request.POST.get("device"):
        try:
            device = Device.objects.get(pk=request.POST["device"])
        except (Device.DoesNotExist, ValidationError):
            raise ValidationError({"device": _("Device: choose an instrument in service at your site.")})
    if kind == "ecg":
        recording = actions.do_import_ecg(actor=request.user, filing=filing, device=device,
                                          received=[actions.Received.from_uploaded(f) for f in files])
        return redirect("diagnostics:ecg", pk=recording.pk)
    if kind == "image":
        if len(files) != 1:
            raise ValidationError({"files": _("Photograph: choose one file.")})
        photo = actions.do_import_image(actor=request.user, filing=filing, device=device,
                                        received=actions.Received.from_uploaded(files[0]),
                                        body_site=request.POST.get("body_site", ""),
                                        body_site_detail=request.POST.get("body_site_detail", ""))
        return redirect("diagnostics:image", pk=photo.pk)
    raise ValidationError({"kind": _("Choose ECG or photograph.")})


def _import_page(request, filing: actions.Filing, panel: dict):
    if request.method == "POST":
        try:
            return _import(request, filing)
        except ValidationError as error:
            return render(request, "diagnostics/import.html", {
                "panel": panel, "filing": filing, "errors": messages_by_field(error), "data": request.POST},
                status=400)
    return render(request, "diagnostics/import.html", {"panel": panel, "filing": filing, "errors": {}})


def import_visit(request, pk):
    """Add an ECG or a photograph to a visit."""
    encounter = gate.get(request.user, Encounter.objects.select_related("patient", "site"), pk,
                         Perm.RECORD_DIAGNOSTIC, audit_action="diagnostics.import")
    return _import_page(request, actions.Filing(encounter=encounter), selectors.visit_panel(request, encounter, with_devices=True))


def import_act(request, pk):
    """Add an ECG or a photograph to a telemedicine act."""
    act = gate.get(request.user, ServiceRequest.objects.select_related("patient", "requesting_site"), pk,
                   Perm.RECORD_DIAGNOSTIC, audit_action="diagnostics.import")
    return _import_page(request, actions.Filing(act=act), selectors.act_panel(request, act, with_devices=True))


def stream(request, act):
    """The live view of an act's ECG or pulse oximeter stream (the specialist's side, beside the call)."""
    act = gate.get(request.user, ServiceRequest.objects.select_related("patient"), act, Perm.JOIN_CALL,
                   audit_action="diagnostics.view_stream")
    return render(request, "diagnostics/stream.html", {
        "act": act, "patient": act.patient, "live": selectors.live_panel(request, act)})
