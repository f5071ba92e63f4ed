"""PractitionerRole: a staff member's assignment to a site, with their role and specialty."""

from __future__ import annotations

from django.utils import timezone

from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import REGISTRY, Include, Resource, clean, reference, register
from caravane.network.models import Assignment, StaffMember


@register
class PractitionerRoleResource(Resource):
    type = "PractitionerRole"
    model = Assignment
    perm = Perm.VIEW_STAFF
    site_paths = ("site",)
    read_action, search_action = "network.view_staff", "network.view_staff"
    params = {
        "_id": search.key("pk"),
        "practitioner": search.reference("staff", "Practitioner", "The staff member"),
        "organization": search.reference("site", "Organization", "The site"),
    }
    includes = {"PractitionerRole:practitioner": Include("Practitioner", "staff_id")}

    @classmethod
    def queryset(cls):
        return Assignment.objects.select_related("staff", "staff__specialty")

    @classmethod
    def scoped(cls, rows, user, perm):
        # Assignments are in reach with their staff member (the staff directory's scope).
        return rows.filter(staff__in=StaffMember.objects.restrict(user, perm))

    @classmethod
    def read(cls, ctx, pk):
        assignment = super().read(ctx, pk)
        ctx.fetch(REGISTRY["Practitioner"], assignment.staff_id)
        return assignment

    @classmethod
    def render(cls, assignment: Assignment, ctx) -> dict:
        staff = assignment.staff
        today = timezone.localdate()
        specialty = staff.specialty
        return clean({
            "active": assignment.start_date <= today and (assignment.end_date is None or assignment.end_date >= today),
            "period": {"start": assignment.start_date.isoformat(),
                       "end": assignment.end_date.isoformat() if assignment.end_date else None},
            "practitioner": reference("Practitioner", assignment.staff_id),
            "organization": reference("Organization", assignment.site_id),
            "location": [reference("Location", assignment.site_id)],
            "code": [systems.coding(systems.ROLE, staff.role, staff.get_role_display())],
            "specialty": [systems.coding(systems.SPECIALTY, specialty.code, specialty.name_en)] if specialty else [],
        })
