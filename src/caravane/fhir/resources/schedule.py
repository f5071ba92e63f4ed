"""Schedule: a specialist's teleconsultation availability (the container of their Slots, under their id)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from caravane.core.access import Perm, Role
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Resource, clean, reference, register
from caravane.network.models import StaffMember
from caravane.telemed.models import Slot


@register
class ScheduleResource(Resource):
    type = "Schedule"
    model = StaffMember
    perm = Perm.VIEW_ACT
    site_paths = ("telemed_slots__hub",)
    read_action, search_action = "telemed.view_slots", "telemed.view_slots"
    params = {"_id": search.key("pk"), "actor": search.reference("pk", "Practitioner", "The specialist")}

    @classmethod
    def queryset(cls):
        return StaffMember.objects.filter(role=Role.SPECIALIST).filter(
            Exists(Slot.objects.filter(specialist=OuterRef("pk"))))

    @classmethod
    def scoped(cls, rows, user, perm):
        # A schedule is in reach with its slots (a hub's availability is public within the network).
        return rows.filter(pk__in=Slot.objects.restrict(user, perm).values("specialist_id"))

    @classmethod
    def render(cls, staff: StaffMember, ctx) -> dict:
        return clean({
            "active": True, "actor": [reference("Practitioner", staff.pk)],
            "serviceType": [systems.coding(systems.SPECIALTY, staff.specialty_id)] if staff.specialty_id else [],
        })
