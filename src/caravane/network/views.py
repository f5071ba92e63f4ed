"""Network pages: dashboard, sites directory, site and staff pages, mobile units and the sites map."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from caravane.audit import gate
from caravane.core.access import Perm
from caravane.network import mapdata
from caravane.network.filters import SiteFilterSet
from caravane.network.models import Site
from caravane.network.selectors import (annotate_staffing, current_deployments, referral_chain, site_staff,
                                        staffing_by_site, understaffed_units)
from caravane.network.templatetags.network_tags import localized_name

SITES_PER_PAGE = 25
UNITS_PER_PAGE = 50


def _sites(user):
    return gate.restrict(user, Site.objects.all(), Perm.VIEW_SITE, target=("network.site", "")).select_related(
        "commune__province", "commune__region", "parent")


def _may_view_staff(user, site) -> bool:
    return Site.objects.restrict(user, Perm.VIEW_STAFF).filter(pk=site.pk).exists()


@require_GET
def dashboard(request):
    """The network's dashboard: sites by kind, understaffed mobile units, shortcuts."""
    sites = _sites(request.user).filter(active=True)
    counts = dict(sites.order_by().values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    return render(request, "network/dashboard.html", {
        "kind_counts": [(value, label, counts.get(value, 0)) for value, label in Site.Kind.choices],
        "total_sites": sum(counts.values()),
        "unit_count": counts.get(Site.Kind.MOBILE_UNIT, 0),
        "understaffed": understaffed_units(sites).order_by("name"),
    })


@require_GET
def site_list(request):
    """The sites directory, filtered by kind, territory, specialty or free text, one page at a time."""
    filterset = SiteFilterSet(request.GET)
    sites = annotate_staffing(filterset.filter(_sites(request.user)).distinct().order_by("name", "pk"))
    page = Paginator(sites, SITES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "network/site_list.html", {
        "filterset": filterset,
        "page": page,
        "query": query.urlencode(),
    }, status=200 if filterset.is_valid else 400)


@require_GET
def site_detail(request, pk):
    """One site: place, referral chain, specialties, equipment, children and (in scope) its staff."""
    site = get_object_or_404(annotate_staffing(_sites(request.user).prefetch_related("specialties", "equipment")),
                             pk=pk)
    children = _sites(request.user).filter(parent=site).order_by("kind", "name")
    staff = None
    if _may_view_staff(request.user, site):
        gate.require(request.user, Perm.VIEW_STAFF, site, in_scope=True, audit_action="view_staff", site=site)
        staff = site_staff(site)
    is_unit = site.kind == Site.Kind.MOBILE_UNIT
    return render(request, "network/site_detail.html", {
        "site": site,
        "chain": referral_chain(site),
        "children": children,
        "staff": staff,
        "staffing": staffing_by_site([site.pk])[site.pk] if is_unit else None,
        "deployment": current_deployments([site.pk]).get(site.pk) if is_unit else None,
    })


@require_GET
def site_staff_page(request, pk):
    """The staff of a site with their roles; refused (403, audited) outside the user's scope."""
    site = gate.get(request.user, _sites(request.user), pk, Perm.VIEW_STAFF, audit_action="view_staff",
                    site_of=lambda obj: obj)
    return render(request, "network/site_staff.html", {"site": site, "staff": site_staff(site)})


@require_GET
def mobile_units(request):
    """Every mobile unit with its current deployment and staffing status."""
    units = _sites(request.user).filter(kind=Site.Kind.MOBILE_UNIT).order_by("name", "pk")
    page = Paginator(units, UNITS_PER_PAGE).get_page(request.GET.get("page"))
    ids = [unit.pk for unit in page]
    staffing, deployments = staffing_by_site(ids), current_deployments(ids)
    rows = [(unit, deployments.get(unit.pk), staffing[unit.pk]) for unit in page]
    return render(request, "network/mobile_units.html", {
        "page": page, "rows": rows, "understaffed_count": understaffed_units(units).count()})


@require_GET
def site_map(request):
    """The sites map page; its module fetches the outlines and the sites as JSON."""
    return render(request, "network/site_map.html", {"kinds": Site.Kind.choices})


@require_GET
def site_map_data(request):
    """Sites as points with their referral links, in the user's language."""
    sites = gate.restrict(request.user, Site.objects.all(), Perm.VIEW_SITE, target=("network.site", "")).filter(
        active=True).only(
        "pk", "name", "name_ar", "kind", "latitude", "longitude", "parent_id")
    understaffed = set(understaffed_units(sites).values_list("pk", flat=True))
    data = mapdata.site_points(sites, understaffed, localized_name)
    data["kinds"] = {value: str(label) for value, label in Site.Kind.choices}
    data["language"] = get_language()
    response = JsonResponse(data)
    response["Cache-Control"] = "private, max-age=60"
    return response


@require_GET
def map_outlines(request):
    """Province outlines (GeoJSON) for the offline base layer; they change only with the geography."""
    response = JsonResponse(mapdata.province_outlines())
    response["Cache-Control"] = "private, max-age=86400"
    return response
