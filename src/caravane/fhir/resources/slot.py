"""Slot: a period a specialist is available for teleconsultations (free, busy once booked)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.telemed.models import Appointment, Slot


def _status_q(value: str) -> Q:
    return {"free": Q(active=True, _booked=False), "busy": Q(active=True, _booked=True),
            "busy-unavailable": Q(active=False)}.get(value, Q(pk__in=[]))


@register
class SlotResource(Resource):
    type = "Slot"
    model = Slot
    perm = Perm.VIEW_ACT
    site_paths = ("hub",)
    read_action, search_action = "telemed.view_slots", "telemed.view_slots"
    params = {
        "_id": search.key("pk"),
        "schedule": search.reference("specialist", "Schedule", "The specialist's schedule"),
        "start": search.date("start", "When it starts"),
        "status": search.custom("token", "free, busy or busy-unavailable (withdrawn)", _status_q),
        "service-type": search.token("specialty", "The specialty", system=systems.SPECIALTY),
    }
    includes = {"Slot:schedule": Include("Schedule", "specialist_id")}

    @classmethod
    def queryset(cls):
        booked = Appointment.objects.filter(slot=OuterRef("pk"), status=Appointment.Status.BOOKED)
        return Slot.objects.annotate(_booked=Exists(booked))

    @classmethod
    def render(cls, slot: Slot, ctx) -> dict:
        status = "busy-unavailable" if not slot.active else ("busy" if slot._booked else "free")
        return clean({
            "serviceType": [systems.coding(systems.SPECIALTY, slot.specialty_id)],
            "schedule": reference("Schedule", slot.specialist_id), "status": status,
            "start": slot.start.isoformat(), "end": slot.end.isoformat(),
        })
