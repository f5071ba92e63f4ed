"""Diagnostics API: an ECG as a FHIR Observation with one SampledData component per lead, its samples as the
binary document, and a photograph as a FHIR Media. Reads go through the gate like the pages."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router

from caravane.audit import gate
from caravane.core.access import Perm
from caravane.core.api import ERRORS
from caravane.diagnostics import waveforms
from caravane.diagnostics.models import EcgRecording, ExaminationImage

router = Router(tags=["diagnostics"])
MDC = "urn:oid:2.16.840.1.113883.6.24"  # ISO/IEEE 11073-10101, the leads' codes in FHIR's ECG examples


def _ecg(request, pk, action) -> EcgRecording:
    return gate.get(request.user, EcgRecording.objects.all(), pk, Perm.VIEW_DIAGNOSTIC,
                    audit_action=action)


def observation(ecg: EcgRecording, *, with_data: bool) -> dict:
    """The ECG as a FHIR R4 Observation: physical value = origin + factor x sample, in mV."""
    resource = {
        "resourceType": "Observation", "id": str(ecg.pk), "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": EcgRecording.LOINC, "display": "EKG study"}]},
        "subject": {"reference": f"Patient/{ecg.patient_id}"},
        "effectiveDateTime": ecg.effective_at.isoformat(),
        **({"encounter": {"reference": f"Encounter/{ecg.encounter_id}"}} if ecg.encounter_id else {}),
        **({"device": {"reference": f"Device/{ecg.device_id}"}} if ecg.device_id else {}),
        "component": [],
    }
    if ecg.heart_rate is not None:
        resource["component"].append({
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
            "valueQuantity": {"value": ecg.heart_rate, "unit": "/min", "system": "http://unitsofmeasure.org",
                              "code": "/min"}})
    if not ecg.has_samples:
        return resource
    samples = waveforms.parse_document(waveforms.document(
        ecg.leads, ecg.units, ecg.gains, ecg.baselines, ecg.sampling_rate, bytes(ecg.samples), ecg.sample_count,
    )).samples if with_data else None
    for index, (lead, unit, gain, baseline) in enumerate(zip(ecg.leads, ecg.units, ecg.gains, ecg.baselines)):
        sampled = {"origin": {"value": -baseline / gain, "unit": unit}, "period": 1000.0 / ecg.sampling_rate,
                   "factor": 1.0 / gain, "dimensions": 1}
        if samples is not None:
            sampled["data"] = " ".join(map(str, samples[index].tolist()))
        resource["component"].append({"code": {"coding": [{"system": MDC, "display": f"Lead {lead}"}],
                                               "text": lead}, "valueSampledData": sampled})
    return resource


@gate.before_input(Perm.VIEW_DIAGNOSTIC, EcgRecording, param="ecg_id", audit_action="diagnostics.view_ecg")
@router.get("/ecgs/{ecg_id}", response={200: dict, **ERRORS})
def get_ecg(request, ecg_id: uuid.UUID, data: bool = False):
    """An ECG as a FHIR Observation (``?data=true``: with each lead's samples as SampledData.data)."""
    return observation(_ecg(request, ecg_id, "diagnostics.view_ecg"), with_data=data)


@gate.before_input(Perm.VIEW_DIAGNOSTIC, EcgRecording, param="ecg_id", audit_action="diagnostics.read_ecg_samples")
@router.get("/ecgs/{ecg_id}/samples", response={200: None, **ERRORS})
def get_ecg_samples(request, ecg_id: uuid.UUID):
    """An ECG's samples as the compact binary document (docs/diagnostics.md)."""
    ecg = _ecg(request, ecg_id, "diagnostics.read_ecg_samples")
    if not ecg.has_samples:
        raise Http404(_("This ECG is a print-out: it has no samples."))
    return HttpResponse(waveforms.document(ecg.leads, ecg.units, ecg.gains, ecg.baselines, ecg.sampling_rate,
                                           bytes(ecg.samples), ecg.sample_count),
                        content_type="application/vnd.caravane.ecg")


@gate.before_input(Perm.VIEW_DIAGNOSTIC, ExaminationImage, param="image_id", audit_action="diagnostics.view_image")
@router.get("/images/{image_id}", response={200: dict, **ERRORS})
def get_image(request, image_id: uuid.UUID):
    """A photograph as a FHIR Media."""
    return media(gate.get(request.user, ExaminationImage.objects.all(), image_id, Perm.VIEW_DIAGNOSTIC,
                          audit_action="diagnostics.view_image"))


def media(image: ExaminationImage) -> dict:
    """The photograph as a FHIR R4 Media (its content is the viewer's JPEG rendering, by URL)."""
    return {
        "resourceType": "Media", "id": str(image.pk), "status": "completed",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/media-type", "code": "image"}]},
        "subject": {"reference": f"Patient/{image.patient_id}"},
        "createdDateTime": image.effective_at.isoformat(),
        "bodySite": {"coding": [{"system": "http://snomed.info/sct", "code": image.body_site,
                                 "display": image.get_body_site_display()}], "text": image.body_site_detail},
        **({"device": {"reference": f"Device/{image.device_id}"}} if image.device_id else {}),
        "width": image.width, "height": image.height,
        "content": {"contentType": "image/jpeg", "url": f"/diagnostics/images/{image.pk}/view/",
                    "title": image.filename},
    }
