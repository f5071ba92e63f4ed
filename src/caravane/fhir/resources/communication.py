"""Communication: a message in a telemedicine act's conversation."""

from __future__ import annotations

from caravane.core.access import Perm
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.telemed.models import Communication

CATEGORY_SYSTEM = "http://caravane.ma/fhir/CodeSystem/communication-category"


@register
class CommunicationResource(Resource):
    type = "Communication"
    model = Communication
    perm = Perm.VIEW_ACT
    site_paths = ("act__requesting_site",)
    read_action, search_action = "telemed.view_act", "telemed.view_act"
    params = {
        "_id": search.key("pk"),
        "based-on": search.reference("act", "ServiceRequest", "The act"),
        **search.patient("act__patient", "The patient"),
        "sent": search.date("sent_at", "When it was sent"),
    }
    includes = {"Communication:based-on": Include("ServiceRequest", "act_id")}

    @classmethod
    def queryset(cls):
        return Communication.objects.select_related("act")

    @classmethod
    def render(cls, message: Communication, ctx) -> dict:
        return clean({
            "status": "completed", "basedOn": [reference("ServiceRequest", message.act_id)],
            "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": message.category}]}],
            "subject": reference("Patient", message.act.patient_id),
            "inResponseTo": [reference("Communication", message.in_response_to_id)] if message.in_response_to_id
            else [],
            "sent": message.sent_at.isoformat(), "sender": reference("Practitioner", message.sender_id),
            "payload": [{"contentString": message.text}],
        })
