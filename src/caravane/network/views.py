"""Network pages: dashboard, sites directory, site and staff pages, mobile units and the sites map."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from caravane.audit.access import fetch_protected
from caravane.audit.actions import do_record_audit
from caravane.network import mapdata
from caravane.network.filters import SiteFilterSet
from caravane.network.models import Deployment, Site, active_on
from caravane.network.staffing import site_staff, unit_staffing
from caravane.network.templatetags.network_tags import localized_name

SITES_PER_PAGE = 25
UNITS_PER_PAGE = 50
STAFF_PERMISSION = "network.view_staff"
# Site.objects.restrict(user, VIEW_STAFF) keeps only the sites in the user's scope.
VIEW_STAFF = "view_staff"


def _sites(user):
    return Site.objects.restrict(user, "view").select_related("commune__province", "commune__region", "parent")


def _current_deployments():
    return Prefetch("deployments", queryset=Deployment.objects.filter(active_on()).select_related(
        "province", "base_commune"), to_attr="current_deployments")


def _may_view_staff(user, site) -> bool:
    return user.has_perm(STAFF_PERMISSION) and Site.objects.restrict(user, VIEW_STAFF).filter(pk=site.pk).exists()


@require_GET
def home(request):
    """The dashboard: sites by kind, understaffed mobile units, shortcuts."""
    sites = Site.objects.restrict(request.user, "view").filter(active=True)
    counts = dict(sites.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    units = sites.filter(kind=Site.Kind.MOBILE_UNIT).select_related("commune")
    staffing = unit_staffing(units)
    understaffed = [status for status in staffing.values() if status.understaffed]
    understaffed.sort(key=lambda status: status.unit.name)
    return render(request, "network/home.html", {
        "kind_counts": [(value, label, counts.get(value, 0)) for value, label in Site.Kind.choices],
        "total_sites": sum(counts.values()),
        "unit_count": len(staffing),
        "understaffed": understaffed,
    })


@require_GET
def site_list(request):
    """The sites directory, filtered by kind, territory, specialty or free text, one page at a time."""
    filterset = SiteFilterSet(request.GET)
    sites = filterset.filter(_sites(request.user)).distinct().order_by("name", "pk")
    page = Paginator(sites, SITES_PER_PAGE).get_page(request.GET.get("page"))
    staffing = unit_staffing([site for site in page if site.kind == Site.Kind.MOBILE_UNIT])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "network/site_list.html", {
        "filterset": filterset,
        "page": page,
        "rows": [(site, staffing.get(site.pk)) for site in page],
        "query": query.urlencode(),
    }, status=200 if filterset.is_valid else 400)


@require_GET
def site_detail(request, pk):
    """One site: place, referral chain, specialties, equipment, children and (in scope) its staff."""
    site = get_object_or_404(
        _sites(request.user).prefetch_related("specialties", "equipment", _current_deployments()), pk=pk)
    children = _sites(request.user).filter(parent=site).order_by("kind", "name")
    staff = None
    if _may_view_staff(request.user, site):
        staff = site_staff(site)
        do_record_audit(actor=request.user, action=VIEW_STAFF, target=site, site=site)
    staffing = unit_staffing([site]).get(site.pk) if site.kind == Site.Kind.MOBILE_UNIT else None
    return render(request, "network/site_detail.html", {
        "site": site,
        "chain": site.referral_chain(),
        "children": children,
        "staff": staff,
        "staffing": staffing,
        "deployment": site.current_deployments[0] if site.current_deployments else None,
    })


@require_GET
def site_staff_page(request, pk):
    """The staff of a site with their roles; refused (403, audited) outside the user's scope."""
    site = fetch_protected(request.user, _sites(request.user), pk=pk, permission=STAFF_PERMISSION,
                           action=VIEW_STAFF, site_of=lambda obj: obj)
    return render(request, "network/site_staff.html", {"site": site, "staff": site_staff(site)})


@require_GET
def mobile_units(request):
    """Every mobile unit with its current deployment and staffing status."""
    units = (_sites(request.user).filter(kind=Site.Kind.MOBILE_UNIT)
             .prefetch_related(_current_deployments()).order_by("name", "pk"))
    page = Paginator(units, UNITS_PER_PAGE).get_page(request.GET.get("page"))
    staffing = unit_staffing(list(page))
    rows = [(unit, unit.current_deployments[0] if unit.current_deployments else None, staffing[unit.pk])
            for unit in page]
    return render(request, "network/mobile_units.html", {
        "page": page, "rows": rows, "understaffed_count": sum(1 for row in rows if row[2].understaffed)})


@require_GET
def site_map(request):
    """The sites map page; its module fetches the outlines and the sites as JSON."""
    return render(request, "network/site_map.html", {"kinds": Site.Kind.choices})


@gzip_page
@require_GET
def site_map_data(request):
    """Sites as points with their referral links, in the user's language."""
    sites = Site.objects.restrict(request.user, "view").filter(active=True).only(
        "pk", "name", "name_ar", "kind", "latitude", "longitude", "parent_id")
    units = [site for site in sites if site.kind == Site.Kind.MOBILE_UNIT]
    understaffed = {pk for pk, status in unit_staffing(units).items() if status.understaffed}
    data = mapdata.site_points(sites, understaffed, localized_name)
    data["kinds"] = {value: str(label) for value, label in Site.Kind.choices}
    data["language"] = get_language()
    response = JsonResponse(data)
    response["Cache-Control"] = "private, max-age=60"
    return response


@gzip_page
@require_GET
def map_outlines(request):
    """Province outlines (GeoJSON) for the offline base layer; they change only with the geography."""
    response = JsonResponse(mapdata.province_outlines())
    response["Cache-Control"] = "private, max-age=86400"
    return response
