"""Practitioner: a staff member of the network."""

from __future__ import annotations

from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Resource, clean, register
from caravane.network.models import StaffMember


@register
class PractitionerResource(Resource):
    type = "Practitioner"
    model = StaffMember
    perm = Perm.VIEW_STAFF
    site_paths = ("assignments__site",)
    read_action, search_action = "network.view_staff", "network.view_staff"
    params = {
        "_id": search.key("pk"),
        "name": search.string(("first_name", "last_name", "first_name_ar", "last_name_ar"), "A name begins with"),
        "identifier": search.token("registration_number", "Order of Physicians registration number",
                                   system=systems.PHYSICIAN_REGISTRATION),
    }

    @classmethod
    def render(cls, staff: StaffMember, ctx) -> dict:
        names = [{"use": "official", "family": staff.last_name, "given": [staff.first_name]}]
        if staff.last_name_ar or staff.first_name_ar:
            names.append({"use": "official", "family": staff.last_name_ar, "given": [staff.first_name_ar],
                          "extension": [{"url": systems.LANGUAGE_EXTENSION, "valueCode": "ar"}]})
        return clean({
            "identifier": [{"system": systems.PHYSICIAN_REGISTRATION, "value": staff.registration_number}]
            if staff.registration_number else [],
            "active": True, "name": names,
            "telecom": [{"system": "phone", "value": staff.phone, "use": "work"}] if staff.phone else [],
        })
