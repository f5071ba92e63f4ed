"""Encounter: one visit of a patient to a site. A create checks the patient in (``do_check_in``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from caravane.care import actions
from caravane.care.models import Encounter
from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.errors import FhirError
from caravane.fhir.server.resource import REGISTRY, Include, Resource, clean, reference, referenced_id, register
from caravane.network.models import Site

# Our visit statuses as FHIR Encounter.status codes.
STATUS = {
    Encounter.Status.CHECKED_IN: "arrived",
    Encounter.Status.WITH_NURSE: "in-progress",
    Encounter.Status.WITH_GP: "in-progress",
    Encounter.Status.DONE: "finished",
}
# Our priorities as v3 ActPriority codes.
PRIORITY = {
    Encounter.Priority.EMERGENCY: ("EM", "emergency"),
    Encounter.Priority.URGENT: ("UR", "urgent"),
    Encounter.Priority.STANDARD: ("R", "routine"),
}
PRIORITY_OF_CODE = {code: ours for ours, (code, _) in PRIORITY.items()}


def _class(site: Site) -> dict:
    # A mobile unit's stop is care in the field; a health centre's visit is ambulatory.
    if site.kind == Site.Kind.MOBILE_UNIT:
        return {"system": systems.ACT_CODE, "code": "FLD", "display": "field"}
    return {"system": systems.ACT_CODE, "code": "AMB", "display": "ambulatory"}


def _codes(mapping: dict) -> dict:
    reverse: dict = {}
    for ours, code in mapping.items():
        reverse.setdefault(code, []).append(ours)
    return reverse


@register
class EncounterResource(Resource):
    type = "Encounter"
    site_paths = ("site",)
    model = Encounter
    perm = Perm.VIEW_CHART
    read_action, search_action = "care.view_visit", "care.list_visits"
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient seen"),
        "status": search.token("status", "arrived, in-progress or finished", codes=_codes(STATUS)),
        "date": search.date("service_date", "The day of the visit", is_date=True),
        "service-provider": search.reference("site", "Organization", "The site of the visit"),
        "location": search.reference("site", "Location", "The site of the visit"),
    }
    includes = {
        "Encounter:patient": Include("Patient", "patient_id"),
        "Encounter:subject": Include("Patient", "patient_id"),
        "Encounter:service-provider": Include("Organization", "site_id"),
    }
    create_perm, create_action = Perm.CHECK_IN, "care.check_in"

    @classmethod
    def queryset(cls):
        return Encounter.objects.select_related("site")

    @classmethod
    def render(cls, encounter: Encounter, ctx) -> dict:
        code, display = PRIORITY[encounter.priority]
        participants = [
            {"type": [systems.coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", kind)],
             "individual": reference("Practitioner", staff)}
            for kind, staff in (("ADM", encounter.checked_in_by_id), ("PART", encounter.nurse_id),
                                ("ATND", encounter.practitioner_id)) if staff]
        return clean({
            "status": STATUS[encounter.status], "class": _class(encounter.site),
            "priority": systems.coding(systems.ACT_PRIORITY, code, display),
            "subject": reference("Patient", encounter.patient_id),
            "participant": participants,
            "period": {"start": encounter.checked_in_at.isoformat(),
                       "end": encounter.finished_at.isoformat() if encounter.finished_at else None},
            "location": [{"location": reference("Location", encounter.site_id)}],
            "serviceProvider": reference("Organization", encounter.site_id),
        })

    @classmethod
    def create(cls, ctx, body: dict):
        """Check the patient in at the site the body names (serviceProvider or location), today."""
        ctx.require(Perm.CHECK_IN, ("care.encounter", ""))
        if body.get("status") not in ("arrived", None):
            raise FhirError(422, "business-rule", _("A visit begins when the patient arrives: status must be “arrived” (its later statuses "
                              "follow the visit's workflow)."), expression=["Encounter.status"])
        patient_id = referenced_id(body.get("subject"), "Patient")
        site_id = referenced_id(body.get("serviceProvider"), "Organization")
        locations = body.get("location") or []
        if site_id is None and locations:
            site_id = referenced_id(locations[0].get("location"), "Location")
        if patient_id is None:
            raise FhirError(422, "required", _("Encounter.subject must refer to a Patient of this server."),
                            expression=["Encounter.subject"])
        if site_id is None:
            raise FhirError(422, "required", _("Name the site of the visit: serviceProvider (Organization) or location "
                              "(Location)."), expression=["Encounter.serviceProvider"])
        priority = Encounter.Priority.STANDARD
        for coding in (body.get("priority") or {}).get("coding", []):
            if coding.get("system") == systems.ACT_PRIORITY and coding.get("code") in PRIORITY_OF_CODE:
                priority = PRIORITY_OF_CODE[coding["code"]]
        site = ctx.fetch(REGISTRY["Organization"], site_id, perm=Perm.CHECK_IN, audit_action="care.check_in")
        patient = ctx.fetch(REGISTRY["Patient"], patient_id, perm=Perm.VIEW_PATIENT, audit_action="care.check_in")
        return actions.do_check_in(actor=ctx.user, patient=patient, site=site, priority=priority)
