"""ServiceRequest: a telemedicine act requested by a site (teleconsultation, tele-expertise...)."""

from __future__ import annotations

from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.telemed.models import Priority, ServiceRequest, Status

# Our act statuses as FHIR ServiceRequest.status (the act's workflow itself is its Task).
STATUS = {
    Status.REQUESTED: "active", Status.ESCALATED: "active", Status.ACCEPTED: "active", Status.SCHEDULED: "active",
    Status.IN_PROGRESS: "active", Status.REPORTED: "completed", Status.CLOSED: "completed",
    Status.DECLINED: "revoked", Status.CANCELLED: "revoked", Status.EXPIRED: "revoked",
}
# Our priorities as FHIR request priorities (routine < urgent < asap).
PRIORITY = {Priority.ROUTINE: "routine", Priority.PRIORITY: "urgent", Priority.URGENT: "asap"}


def codes_of(mapping: dict) -> dict:
    """The reverse of a status table: each FHIR code to the stored values it stands for."""
    reverse: dict = {}
    for ours, code in mapping.items():
        reverse.setdefault(code, []).append(ours)
    return reverse


@register
class ServiceRequestResource(Resource):
    type = "ServiceRequest"
    model = ServiceRequest
    perm = Perm.VIEW_ACT
    site_paths = ("requesting_site",)
    read_action, search_action = "telemed.view_act", "telemed.list_acts"
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient"),
        "encounter": search.reference("encounter", "Encounter", "The visit it comes from"),
        "status": search.token("status", "active, completed or revoked", codes=codes_of(STATUS)),
        "priority": search.token("priority", "routine, urgent or asap", codes=codes_of(PRIORITY)),
        "code": search.token("kind", "The act (teleconsultation, teleexpertise...)", system=systems.TELEMED_ACT),
        "authored": search.date("requested_at", "When it was requested"),
        "performer": search.reference("hub", "Organization", "The hub it was routed to"),
    }
    includes = {"ServiceRequest:patient": Include("Patient", "patient_id")}

    @classmethod
    def render(cls, act: ServiceRequest, ctx) -> dict:
        return clean({
            "status": STATUS[act.status], "intent": "order", "priority": PRIORITY[act.priority],
            "code": systems.coding(systems.TELEMED_ACT, act.kind, act.get_kind_display()),
            "subject": reference("Patient", act.patient_id), "encounter": reference("Encounter", act.encounter_id),
            "authoredOn": act.requested_at.isoformat(), "requester": reference("Practitioner", act.requester_id),
            "performerType": systems.coding(systems.SPECIALTY, act.specialty_id),
            "performer": [reference("Organization", act.hub_id)],
            "supportingInfo": [reference("Consent", act.consent_id)],
            "note": [{"text": act.question}],
        })
