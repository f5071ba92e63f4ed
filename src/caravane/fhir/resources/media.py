"""Media: an examination photograph (dermatoscope, camera), rendered as diagnostics' API renders it."""

from __future__ import annotations

from django.db.models import F

from caravane.core.access import Perm
from caravane.diagnostics import api as diagnostics_api
from caravane.diagnostics.models import ExaminationImage
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register


@register
class MediaResource(Resource):
    type = "Media"
    model = ExaminationImage
    perm = Perm.VIEW_DIAGNOSTIC
    read_action, search_action = "diagnostics.view_image", "diagnostics.view_image"
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient photographed"),
        "encounter": search.reference("encounter", "Encounter", "The visit it was taken in"),
        "based-on": search.reference("act", "ServiceRequest", "The telemedicine act it was filed for"),
        "created": search.date("effective_at", "When it was taken"),
        "site": search.token("body_site", "Body site (SNOMED CT)", system=systems.SNOMED),
        "device": search.reference("device", "Device", "The camera or dermatoscope"),
    }
    includes = {"Media:patient": Include("Patient", "patient_id")}

    versioned = True
    site_paths = ("encounter__site", "act__requesting_site")

    @classmethod
    def last_changed(cls, image):
        return image.created_at  # append-only

    @classmethod
    def last_updated(cls):
        return F("created_at")

    @classmethod
    def render(cls, image: ExaminationImage, ctx) -> dict:
        body = diagnostics_api.media(image)
        del body["resourceType"], body["id"]
        body.update(encounter=reference("Encounter", image.encounter_id),
                    basedOn=[reference("ServiceRequest", image.act_id)],
                    operator=reference("Practitioner", image.recorded_by_id))
        return clean(body)
