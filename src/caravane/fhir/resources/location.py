"""Location: where a site is (its coordinates), or a mobile unit's base."""

from __future__ import annotations

from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.resources.organization import site_type
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.network.models import Site


@register
class LocationResource(Resource):
    type = "Location"
    model = Site
    perm = Perm.VIEW_SITE
    site_paths = ("",)
    read_action, search_action = "network.view_site", "network.view_site"
    params = {
        "_id": search.key("pk"),
        "name": search.string(("name", "name_ar"), "The name begins with"),
        "organization": search.reference("pk", "Organization", "The site it is the place of"),
    }
    includes = {"Location:organization": Include("Organization", "pk")}

    @classmethod
    def queryset(cls):
        return Site.objects.select_related("commune")

    @classmethod
    def render(cls, site: Site, ctx) -> dict:
        mobile = site.kind == Site.Kind.MOBILE_UNIT
        return clean({
            "identifier": [{"system": systems.SITE_CODE, "value": site.code}],
            "status": "active" if site.active else "inactive", "name": site.name, "alias": [site.name_ar],
            "mode": "kind" if mobile else "instance", "type": [site_type(site)],
            "physicalType": systems.coding("http://terminology.hl7.org/CodeSystem/location-physical-type",
                                           "vi" if mobile else "bu", "Vehicle" if mobile else "Building"),
            "address": {"city": site.commune.name_fr, "country": "MA"},
            "position": {"longitude": site.longitude, "latitude": site.latitude},
            "managingOrganization": reference("Organization", site.pk),
        })
