"""Pharmacy pages: the sites' stock with its alerts, receipts, transfers, counts, write-offs, the ledger and
dispensing against the day's prescriptions. Each page asks the gate once; the actions decide the rest."""

from __future__ import annotations

import datetime
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from caravane.audit import gate
from caravane.care.models import MedicationRequest
from caravane.core.access import Perm, scope_of
from caravane.core.errors import messages_by_field
from caravane.network.models import Site
from caravane.patients.selectors import coverage_status
from caravane.pharmacy import actions, reports, selectors
from caravane.pharmacy.models import (
    LotBalance, Lot, Product, Requisition, StockedProduct, StockMovement, Transfer, stock_scope,
)

STOCK_KINDS = reports.STOCK_KINDS
DELIVERY_ROWS = 6
LEDGER_ROWS = 200


def stock_sites(user):
    """The sites holding stock that the user reaches (their own; a depot's staff, its province's)."""
    scope = scope_of(user)
    sites = Site.objects.filter(kind__in=STOCK_KINDS, active=True).select_related("commune")
    return (sites if scope.national else sites.filter(stock_scope(scope, ""))).order_by("kind", "name")


def _site(request, pk, perm: Perm, action: str) -> Site:
    """The site named in the address, if its stock is within the user's reach for ``perm`` (refusal audited)."""
    site = Site.objects.select_related("commune").filter(pk=pk, kind__in=STOCK_KINDS).first()
    if site is None:
        raise Http404(_("No site holding stock with this identifier."))
    gate.require(request.user, perm, site, in_scope=actions.in_stock_scope(request.user, site), audit_action=action,
                 site=site, message=_("This site's stock is not in your scope."))
    return site


def _by_pk(queryset, value):
    try:
        return queryset.filter(pk=uuid.UUID(str(value))).first()
    except (ValueError, TypeError):
        return None


def _errors(error: ValidationError) -> list[str]:
    return [message for found in messages_by_field(error).values() for message in found]


@require_GET
def index(request):
    """The pharmacy's home: the sites whose stock the user holds or oversees, and their alerts (live)."""
    gate.require(request.user, Perm.VIEW_STOCK, ("pharmacy.lotbalance", ""), in_scope=True,
                 audit_action="pharmacy.view_alerts")
    sites = list(stock_sites(request.user))
    return render(request, "pharmacy/index.html", {
        "sites": sites, "alerts": selectors.alerts(sites),
        "feeds": " ".join(f"/ws/pharmacy/stock/{site.pk}/" for site in sites[:50]),
        "incoming": Transfer.objects.filter(to_site__in=sites, status=Transfer.Status.IN_TRANSIT)
        .select_related("from_site", "to_site"),
    })


@require_GET
def alerts(request):
    """The alerts alone, re-read when a stock the page follows changes."""
    gate.require(request.user, Perm.VIEW_STOCK, ("pharmacy.lotbalance", ""), in_scope=True,
                 audit_action="pharmacy.view_alerts", quiet=True)
    return render(request, "pharmacy/_alerts.html", {"alerts": selectors.alerts(stock_sites(request.user))})


@require_GET
def stock(request, site):
    """A site's stock per product and lot, first expiry first, with consumption, months of stock and alerts."""
    site = _site(request, site, Perm.VIEW_STOCK, "pharmacy.view_stock")
    return render(request, "pharmacy/stock.html", {
        "site": site, "stock": selectors.site_stock(site), "today": timezone.localdate(),
        "incoming": Transfer.objects.filter(to_site=site, status=Transfer.Status.IN_TRANSIT)
        .select_related("from_site").prefetch_related("lines__lot__product__medicine"),
        "requisitions": Requisition.objects.filter(site=site).exclude(status=Requisition.Status.RECEIVED)
        .select_related("depot")[:10],
        "to_review": Requisition.objects.filter(depot=site, status__in=(
            Requisition.Status.REQUESTED, Requisition.Status.APPROVED)).select_related("site")
        .prefetch_related("lines__product__medicine"),
        "depot": actions.depot_of(site) if site.kind != Site.Kind.PROVINCIAL_DEPOT else None,
    })


@require_POST
def request_stock(request, site):
    """Order from the site's depot the quantities typed (proposed: what brings each product to its maximum)."""
    site = _site(request, site, Perm.MANAGE_STOCK, "pharmacy.request_stock")
    lines = {}
    for product in _products():
        value = (request.POST.get(f"order_{product.pk}") or "").strip()
        if value not in ("", "0"):
            lines[product] = value
    try:
        actions.do_request_stock(actor=request.user, site=site, lines=lines, note=request.POST.get("note", ""))
        messages.success(request, _("Requisition sent to the depot."))
    except ValidationError as error:
        messages.error(request, " ".join(_errors(error)))
    return redirect("pharmacy:stock", site.pk)


@require_POST
def review_requisition(request, pk):
    """The depot approves (as requested) or rejects a requisition."""
    found = _by_pk(Requisition.objects.select_related("depot__commune"), pk)
    if found is None:
        raise Http404(_("No requisition with this identifier."))
    _site(request, found.depot_id, Perm.APPROVE_REQUISITION, "pharmacy.review_requisition")
    try:
        actions.do_review_requisition(actor=request.user, requisition=found,
                                      approve=request.POST.get("decision") == "approve")
        messages.success(request, _("Requisition reviewed."))
    except ValidationError as error:
        messages.error(request, " ".join(_errors(error)))
    return redirect("pharmacy:stock", found.depot_id)


def _products():
    return Product.objects.filter(active=True).select_related("medicine").order_by("medicine__inn", "strength")


def receive(request, site):
    """Receive a delivery: its note's number, the supplier, and a line per lot."""
    site = _site(request, site, Perm.MANAGE_STOCK, "pharmacy.receive_delivery")
    context = {"site": site, "products": _products(), "rows": range(DELIVERY_ROWS), "data": request.POST}
    if request.method != "POST":
        return render(request, "pharmacy/receive.html", context)
    products = {str(product.pk): product for product in context["products"]}
    lines = []
    for index in range(DELIVERY_ROWS):
        field = lambda name: (request.POST.get(f"{name}_{index}") or "").strip()  # noqa: E731
        if not any(field(name) for name in ("product", "batch", "expiry", "quantity")):
            continue
        lines.append({"product": products.get(field("product")), "batch_number": field("batch"),
                      "expiry_date": field("expiry"), "quantity": field("quantity")})
    try:
        delivery = actions.do_receive_delivery(actor=request.user, site=site, note_number=request.POST.get("note", ""),
                                               supplier=request.POST.get("supplier", ""), lines=lines)
    except ValidationError as error:
        return render(request, "pharmacy/receive.html", {**context, "errors": _errors(error)}, status=400)
    messages.success(request, _("Delivery note %(number)s received.") % {"number": delivery.note_number})
    return redirect("pharmacy:stock", site.pk)


def _lots_on_hand(site):
    return (LotBalance.objects.filter(site=site, quantity__gt=0).select_related("lot", "product__medicine")
            .order_by("product__code", "lot__expiry_date"))


def transfer(request, site):
    """Send lots to another site (a unit, a centre, back to the base or the depot): in transit until received."""
    site = _site(request, site, Perm.MANAGE_STOCK, "pharmacy.ship_transfer")
    balances = list(_lots_on_hand(site))
    destinations = actions.transfer_destinations(site)
    context = {"site": site, "balances": balances, "destinations": destinations, "data": request.POST,
               "today": timezone.localdate(),
               "requisition": _by_pk(Requisition.objects.filter(depot=site).select_related("site")
                                     .prefetch_related("lines__product__medicine"),
                                     request.GET.get("requisition") or request.POST.get("requisition"))}
    if request.method != "POST":
        return render(request, "pharmacy/transfer.html", context)
    to_site = _by_pk(Site.objects.filter(kind__in=STOCK_KINDS), request.POST.get("to_site"))
    requisition = _by_pk(Requisition.objects.filter(depot=site), request.POST.get("requisition")) \
        if request.POST.get("requisition") else None
    lines = [{"lot": balance.lot, "quantity": request.POST.get(f"quantity_{balance.lot_id}")}
             for balance in balances if (request.POST.get(f"quantity_{balance.lot_id}") or "").strip() not in ("", "0")]
    try:
        if to_site is None:
            raise ValidationError({"to_site": _("Destination: choose a site.")})
        actions.do_ship_transfer(actor=request.user, from_site=site, to_site=to_site, lines=lines,
                                 requisition=requisition)
    except ValidationError as error:
        return render(request, "pharmacy/transfer.html", {**context, "errors": _errors(error)}, status=400)
    messages.success(request, _("Transfer to %(site)s sent; it is in transit until received.") % {
        "site": to_site.localized_name})
    return redirect("pharmacy:stock", site.pk)


@require_POST
def receive_transfer(request, pk):
    """Take a transfer in transit into the receiving site's stock."""
    found = _by_pk(Transfer.objects.select_related("to_site__commune"), pk)
    if found is None:
        raise Http404(_("No transfer with this identifier."))
    _site(request, found.to_site_id, Perm.MANAGE_STOCK, "pharmacy.receive_transfer")
    try:
        actions.do_receive_transfer(actor=request.user, transfer=found)
        messages.success(request, _("Transfer received into the stock."))
    except ValidationError as error:
        messages.error(request, " ".join(_errors(error)))
    return redirect("pharmacy:stock", found.to_site_id)


def count(request, site):
    """The physical count of the site's lots: a variance becomes an adjustment, with its reason."""
    site = _site(request, site, Perm.MANAGE_STOCK, "pharmacy.count_stock")
    balances = list(_lots_on_hand(site))
    context = {"site": site, "balances": balances, "data": request.POST}
    if request.method != "POST":
        return render(request, "pharmacy/count.html", context)
    counts = {balance.lot: request.POST.get(f"count_{balance.lot_id}") for balance in balances
              if (request.POST.get(f"count_{balance.lot_id}") or "").strip()}
    try:
        movements = actions.do_count_stock(actor=request.user, site=site, counts=counts,
                                           reason=request.POST.get("reason", ""))
    except ValidationError as error:
        return render(request, "pharmacy/count.html", {**context, "errors": _errors(error)}, status=400)
    messages.success(request, _("Count recorded: %(n)s adjustment(s).") % {"n": len(movements)})
    return redirect("pharmacy:stock", site.pk)


@require_POST
def write_off(request, site):
    """A loss, an expiry write-off or a patient's return of one lot."""
    site = _site(request, site, Perm.MANAGE_STOCK, "pharmacy.record_movement")
    lot = _by_pk(Lot.objects.all(), request.POST.get("lot"))
    try:
        if lot is None:
            raise ValidationError({"lot": _("Choose a lot.")})
        actions.do_record_movement(actor=request.user, site=site, lot=lot, kind=request.POST.get("kind", ""),
                                   quantity=request.POST.get("quantity"), reason=request.POST.get("reason", ""))
        messages.success(request, _("Movement recorded."))
    except ValidationError as error:
        messages.error(request, " ".join(_errors(error)))
    return redirect("pharmacy:stock", site.pk)


@require_GET
def ledger(request, site):
    """The site's ledger, newest first (one product's when asked), with each lot's balance after the line."""
    site = _site(request, site, Perm.VIEW_STOCK, "pharmacy.view_ledger")
    rows = (StockMovement.objects.filter(site=site).select_related("lot", "product__medicine", "recorded_by",
                                                                     "delivery", "transfer", "dispense")
            .order_by("-occurred_at", "-created_at"))
    product = _by_pk(Product.objects.all(), request.GET.get("product")) if request.GET.get("product") else None
    if product is not None:
        rows = rows.filter(product=product)
    return render(request, "pharmacy/ledger.html", {"site": site, "rows": rows[:LEDGER_ROWS], "product": product})


def _day(request) -> datetime.date:
    raw = request.GET.get("day")
    try:
        return datetime.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        raise Http404(_("Day: use the YYYY-MM-DD format."))


def _visits(request, site, day):
    """The day's active prescription lines at the site, by visit, with what dispensing them needs."""
    lines = (MedicationRequest.objects.restrict(request.user, Perm.DISPENSE)
             .filter(encounter__site=site, encounter__service_date=day, status=MedicationRequest.Status.ACTIVE)
             .select_related("encounter__patient", "recorder").order_by("encounter__checked_in_at", "created_at"))
    visits: dict = {}
    for line in selectors.lines_to_dispense(site, list(lines), day):
        encounter = line.prescription.encounter
        if encounter.pk not in visits:
            visits[encounter.pk] = (encounter, coverage_status(encounter.patient, on=timezone.localdate()), [])
        visits[encounter.pk][2].append(line)
    return list(visits.values())


@require_GET
def dispensing(request, site):
    """The day's prescriptions at the site, each with the proposed product, quantity and first-expiry lot."""
    site = _site(request, site, Perm.DISPENSE, "pharmacy.view_dispensing")
    day = _day(request)
    visits = _visits(request, site, day)
    gate.returned(request.user, Perm.DISPENSE, site, [encounter.patient_id for encounter, _c, _l in visits])
    lots = {}
    for balance in LotBalance.objects.filter(site=site, quantity__gt=0).select_related("lot"):
        lots.setdefault(balance.product_id, []).append(balance)
    for _encounter, _coverage, lines in visits:
        for line in lines:
            line.lot_choices = sorted((b for p in line.products for b in lots.get(p.pk, [])),
                                      key=lambda b: b.lot.expiry_date)
    return render(request, "pharmacy/dispensing.html", {"site": site, "visits": visits, "day": day,
                                                        "today": timezone.localdate()})


@require_POST
def dispense(request, site, prescription):
    """Dispense one prescription line from the site's stock (first expiry first out unless a lot is chosen)."""
    site = _site(request, site, Perm.DISPENSE, "pharmacy.dispense")
    line = gate.get(request.user, MedicationRequest.objects.select_related("encounter__patient"), prescription,
                    Perm.DISPENSE, audit_action="pharmacy.dispense",
                    message=_("This patient's prescriptions are not in your scope."))
    product = _by_pk(Product.objects.select_related("medicine"), request.POST.get("product"))
    lot = _by_pk(Lot.objects.all(), request.POST.get("lot")) if request.POST.get("lot") else None
    back = reverse("pharmacy:dispensing", args=[site.pk]) + f"?day={line.encounter.service_date.isoformat()}"
    try:
        if product is None:
            raise ValidationError({"product": _("Product: choose a stocked product.")})
        done = actions.do_dispense(actor=request.user, prescription=line, site=site, product=product,
                                   quantity=request.POST.get("quantity"), lot=lot)
    except ValidationError as error:
        messages.error(request, " ".join(_errors(error)))
        return redirect(back)
    text = _("Dispensed %(quantity)s × %(product)s.") % {"quantity": done.quantity, "product": product.label}
    if done.free_of_charge:
        text += " " + _("Free of charge (%(scheme)s %(number)s).") % {
            "scheme": coverage_status(line.encounter.patient).label, "number": done.coverage_number}
    if done.owed:
        text += " " + _("Still owed: %(owed)s.") % {"owed": done.owed}
    messages.success(request, text)
    return redirect(back)


@require_GET
def tour(request, site):
    """A mobile unit before a tour (the load list for its planned stop days) and on return (what left the van
    since it set out, and the count to reconcile)."""
    site = _site(request, site, Perm.VIEW_STOCK, "pharmacy.view_tour")
    if site.kind != Site.Kind.MOBILE_UNIT:
        raise Http404(_("Only mobile units go on tours."))
    try:
        asked = min(max(int(request.GET["days"]), 1), 31) if request.GET.get("days") else None
        since = datetime.date.fromisoformat(request.GET["since"]) if request.GET.get("since") else \
            timezone.localdate() - datetime.timedelta(days=7)
    except ValueError:
        raise Http404(_("Days: a number from 1 to 31; since: a date as YYYY-MM-DD."))
    days, planned = selectors.tour_days(site, asked)
    lines = selectors.load_list(site, days)
    moved = selectors.reconciliation(site, reports.aware(since))
    for line in lines:
        line.since_start = moved.get(line.stock.product.pk, {})
    return render(request, "pharmacy/tour.html", {"site": site, "lines": lines, "days": days, "since": since,
                                                  "planned": planned, "base": site.parent})


@require_GET
def catalogue(request):
    """The products the programme stocks, with their levels and the medicine's names and category."""
    gate.require(request.user, Perm.VIEW_STOCK, ("pharmacy.product", ""), in_scope=True,
                 audit_action="pharmacy.view_catalogue")
    levels: dict = {}
    for row in StockedProduct.objects.all():
        levels.setdefault(row.product_id, []).append(row)
    products = list(_products().select_related("medicine__category"))
    for product in products:
        product.levels = levels.get(product.pk, [])
    return render(request, "pharmacy/catalogue.html", {"products": products})


def _report(request):
    """The month's report for the sites of the user's scope (one site or province when asked)."""
    month = request.GET.get("month") or timezone.localdate().strftime("%Y-%m")
    sites = gate.restrict(request.user, stock_sites(request.user), Perm.VIEW_STOCK_REPORTS,
                          target=("pharmacy.report", month[:7]), audit_action="pharmacy.view_report")
    site = _by_pk(Site.objects.all(), request.GET.get("site")) if request.GET.get("site") else None
    try:
        return reports.month_report(sites, month, site=site.pk if site else None,
                                    province=(request.GET.get("province") or "")[:12] or None), sites
    except ValidationError as error:
        raise Http404(" ".join(error.messages))


@require_GET
def report(request):
    """A month's consumption, stock-out days, expiries and patients served by coverage scheme; CSV on request."""
    figures, sites = _report(request)
    if request.GET.get("format") == "csv":
        response = HttpResponse(reports.report_csv(figures), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="medicines-{figures["month"]}.csv"'
        return response
    return render(request, "pharmacy/report.html", {"report": figures, "sites": sites,
                                                    "query": request.GET.urlencode()})
