"""Patient/{id}/$everything: the patient and every record of theirs the author may read, in one Bundle."""

from __future__ import annotations

from django.utils.translation import gettext as _

from caravane.fhir.server.capability import register_operation
from caravane.fhir.server.errors import FhirError
from caravane.fhir.server.interactions import Answer, register_handler
from caravane.fhir.server.resource import REGISTRY

# The resources that belong to a patient, and the field naming them.
COMPARTMENT = (("Encounter", "patient"), ("Observation", "patient"), ("Condition", "patient"),
               ("MedicationRequest", "patient"), ("MedicationDispense", "patient"), ("Consent", "patient"))


def everything(ctx, method: str, segments: list[str], query) -> Answer:
    """The patient's compartment as a searchset Bundle (records out of the author's role are left out)."""
    if method != "GET" or len(segments) != 3:
        raise FhirError(405, "not-supported", _("$everything is read with GET Patient/{id}/$everything."))
    if list(query):
        raise FhirError(400, "not-supported", _("$everything takes no parameters here."))
    patient_type = REGISTRY["Patient"]
    patient = patient_type.read(ctx, segments[1])
    entries = [patient_type.render_many([patient], ctx)[0]]
    for name, field in COMPARTMENT:
        resource = REGISTRY[name]
        if not ctx.may(resource.reading_perm(ctx)):
            continue
        rows = list(resource.searchable(ctx.rows(resource)).filter(**{field: patient.pk}).order_by("pk"))
        ctx.returned(resource, [row.pk for row in rows])
        entries += resource.render_many(rows, ctx)
    return Answer(200, {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                        "entry": [{"fullUrl": ctx.url(body["resourceType"], body["id"]), "resource": body,
                                   "search": {"mode": "match"}} for body in entries]})


register_operation("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything", "Patient")
register_handler("$everything", "Patient", everything)
