"""Organization: a site of the network (health centre, mobile unit, regional or national centre)."""

from __future__ import annotations

from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.network.models import Site


def site_type(site: Site) -> dict:
    return systems.coding(systems.SITE_KIND, site.kind, site.get_kind_display())


@register
class OrganizationResource(Resource):
    type = "Organization"
    model = Site
    perm = Perm.VIEW_SITE
    site_paths = ("",)
    read_action, search_action = "network.view_site", "network.view_site"
    params = {
        "_id": search.key("pk"),
        "name": search.string(("name", "name_ar"), "The name begins with"),
        "identifier": search.token("code", "The site's code", system=systems.SITE_CODE),
        "type": search.token("kind", "The kind of site", system=systems.SITE_KIND),
        "partof": search.reference("parent", "Organization", "The referral parent"),
    }
    includes = {"Organization:partof": Include("Organization", "parent_id")}

    @classmethod
    def render(cls, site: Site, ctx) -> dict:
        return clean({
            "identifier": [{"system": systems.SITE_CODE, "value": site.code}], "active": site.active,
            "type": [site_type(site)], "name": site.name, "alias": [site.name_ar],
            "partOf": reference("Organization", site.parent_id),
        })
