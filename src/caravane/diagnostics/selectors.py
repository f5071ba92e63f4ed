"""Reads of ECGs and photographs: a visit's and an act's panels, a patient's chart entries, a body site's series."""

from __future__ import annotations

from django.db.models import Q

from caravane.core.access import Perm, Role, scope_of
from caravane.devices.models import Device
from caravane.diagnostics.models import BodySite, EcgRecording, ExaminationImage

# An ECG's list pages never load its samples.
LIGHT_ECG = ("samples", "r_peaks")


def ecgs(**filters):
    """ECG recordings without their samples, newest first."""
    return EcgRecording.objects.filter(**filters).defer(*LIGHT_ECG).select_related("device")


def images(**filters):
    """Photographs, newest first."""
    return ExaminationImage.objects.filter(**filters).select_related("device")


def _panel(request, target, condition: Q, kind: str, with_devices: bool) -> dict | None:
    # Shown on a page whose gate already granted the visit or the act, whose reach is this app's too: the role's
    # permissions decide, without asking the database again.
    scope = scope_of(request.user)
    if not scope.allows(Perm.VIEW_DIAGNOSTIC):
        return None
    may_record = scope.allows(Perm.RECORD_DIAGNOSTIC)
    return {"ecgs": list(ecgs().filter(condition)), "images": list(images().filter(condition)),
            "may_record": may_record, "body_sites": BodySite.choices, "target": target, "kind": kind,
            "import_url_name": f"diagnostics:import_{kind}",
            "devices": list(Device.objects.restrict(request.user, Perm.RECORD_DIAGNOSTIC).filter(
                status=Device.Status.ACTIVE).select_related("kind")) if may_record and with_devices else None}


def visit_panel(request, encounter, with_devices: bool = False) -> dict | None:
    """The ECGs and photographs of a visit, and whether the reader may add some (the devices to choose from on
    the import page)."""
    return _panel(request, encounter, Q(encounter=encounter), "visit", with_devices)


def act_panel(request, act, with_devices: bool = False) -> dict | None:
    """The ECGs and photographs of an act (and those of its visit), and whether the reader may add some."""
    condition = Q(act=act) | (Q(encounter=act.encounter_id, act__isnull=True) if act.encounter_id else Q(pk__in=[]))
    return _panel(request, act, condition, "act", with_devices)


# Who sends a call's live stream: the requesting site's nurse and GP (the specialist watches it).
SENDERS = (Role.NURSE, Role.GP)


def live_panel(request, act) -> dict:
    """The live ECG and oximetry card of a call: the site's staff send from it, the specialist watches it."""
    return {"act": act, "role": "site" if scope_of(request.user).role in SENDERS else "specialist"}


def chart_ecg_entries(patient):
    """The patient's ECGs for the chart's timeline (the chart's opening was granted)."""
    return [(ecg.effective_at, ecg) for ecg in ecgs(patient=patient)]


def chart_image_entries(patient):
    """The patient's photographs for the chart's timeline."""
    return [(image.effective_at, image) for image in images(patient=patient)]


def same_site_series(image: ExaminationImage) -> list[ExaminationImage]:
    """The patient's photographs of the same body site, oldest first: the course of a lesion over time."""
    return list(images(patient=image.patient_id, body_site=image.body_site).order_by("effective_at"))
