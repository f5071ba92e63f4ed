"""Appointment: a teleconsultation booked in a specialist's slot."""

from __future__ import annotations

from caravane.core.access import Perm
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.telemed.models import Appointment

# Our appointment statuses are FHIR's own codes.
STATUS = {Appointment.Status.BOOKED: "booked", Appointment.Status.FULFILLED: "fulfilled",
          Appointment.Status.CANCELLED: "cancelled"}


@register
class AppointmentResource(Resource):
    type = "Appointment"
    model = Appointment
    perm = Perm.VIEW_ACT
    site_paths = ("act__requesting_site",)
    read_action, search_action = "telemed.view_act", "telemed.list_acts"
    params = {
        "_id": search.key("pk"),
        "patient": search.reference("act__patient", "Patient", "The patient"),
        "based-on": search.reference("act", "ServiceRequest", "The act"),
        "status": search.token("status", "booked, fulfilled or cancelled"),
        "date": search.date("start", "When it starts"),
        "slot": search.reference("slot", "Slot", "The slot booked"),
    }
    includes = {"Appointment:slot": Include("Slot", "slot_id"), "Appointment:based-on": Include("ServiceRequest", "act_id")}

    @classmethod
    def queryset(cls):
        return Appointment.objects.select_related("act")

    @classmethod
    def render(cls, appointment: Appointment, ctx) -> dict:
        return clean({
            "status": STATUS[appointment.status], "cancelationReason": {"text": appointment.cancel_reason},
            "start": appointment.start.isoformat(), "end": appointment.end.isoformat(),
            "slot": [reference("Slot", appointment.slot_id)],
            "basedOn": [reference("ServiceRequest", appointment.act_id)],
            "participant": [{"actor": reference("Practitioner", appointment.specialist_id), "status": "accepted"},
                            {"actor": reference("Patient", appointment.act.patient_id), "status": "accepted"}],
        })
