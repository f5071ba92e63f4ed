"""Monthly figures per site and province: consumption per product, stock-out days, expiries, patients served
by coverage scheme; computed from the ledger and the dispenses, the same for the pages, the CSV and the API."""

from __future__ import annotations

import calendar
import csv
import datetime
import io

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.network.models import Site
from caravane.pharmacy.models import MedicationDispense, StockMovement

STOCK_KINDS = (Site.Kind.RURAL_HEALTH_CENTRE, Site.Kind.MOBILE_UNIT, Site.Kind.PROVINCIAL_DEPOT)


def month_bounds(month: str) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a ``YYYY-MM`` month."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = datetime.date(year, number, 1)
    except (ValueError, TypeError):
        raise ValidationError(_("Month: use the YYYY-MM format."))
    return first, first.replace(day=calendar.monthrange(year, number)[1])


def aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def stock_out_days(site_id, product_id, first: datetime.date, last: datetime.date) -> int:
    """Days of the month (up to today) that ended with none of the product on hand at the site, from the ledger."""
    last = min(last, timezone.localdate())
    if last < first:
        return 0
    start, end = aware(first), aware(last + datetime.timedelta(days=1))
    rows = StockMovement.objects.filter(site_id=site_id, product_id=product_id)
    balance = rows.filter(occurred_at__lt=start).aggregate(n=Sum("quantity"))["n"] or 0
    change_by_day: dict = {}
    for when, quantity in rows.filter(occurred_at__gte=start, occurred_at__lt=end).values_list("occurred_at",
                                                                                                  "quantity"):
        day = timezone.localdate(when)
        change_by_day[day] = change_by_day.get(day, 0) + quantity
    days, day = 0, first
    while day <= last:
        balance += change_by_day.get(day, 0)
        days += balance <= 0
        day += datetime.timedelta(days=1)
    return days


def month_report(sites, month: str, *, site=None, province: str | None = None) -> dict:
    """The month's figures for ``sites`` (already scoped), narrowed to one site or one province when asked."""
    first, last = month_bounds(month)
    if site is not None:
        sites = sites.filter(pk=site)
    if province:
        sites = sites.filter(commune__province_id=province)
    site_ids = list(sites.values_list("pk", flat=True))
    start, end = aware(first), aware(last + datetime.timedelta(days=1))
    movements = StockMovement.objects.filter(site_id__in=site_ids, occurred_at__gte=start, occurred_at__lt=end)
    per_product = (movements.values("site_id", "site__name", "product_id", "product__code")
                   .annotate(consumed=Sum("quantity", filter=Q(kind=StockMovement.Kind.DISPENSE)),
                             expired=Sum("quantity", filter=Q(kind=StockMovement.Kind.EXPIRY)),
                             lost=Sum("quantity", filter=Q(kind=StockMovement.Kind.LOSS)))
                   .order_by("site__name", "product__code"))
    products = [{
        "site": row["site_id"], "site_name": row["site__name"], "product": row["product_id"],
        "product_code": row["product__code"], "consumed": -(row["consumed"] or 0), "expired": -(row["expired"] or 0),
        "lost": -(row["lost"] or 0),
        "stock_out_days": stock_out_days(row["site_id"], row["product_id"], first, last),
    } for row in per_product]
    dispenses = MedicationDispense.objects.filter(site_id__in=site_ids, handed_over_at__gte=start,
                                                  handed_over_at__lt=end)
    coverage = [{"coverage_type": row["coverage_type"], "patients": row["patients"], "free_of_charge": row["free"]}
                for row in dispenses.values("coverage_type").annotate(
                    patients=Count("patient_id", distinct=True),
                    free=Count("patient_id", distinct=True, filter=Q(free_of_charge=True))).order_by("coverage_type")]
    return {"month": month, "sites": len(site_ids), "products": products, "patients_by_coverage": coverage}


def report_csv(report: dict) -> str:
    """The product lines of a report as CSV (one line per site and product), then the patients by coverage."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "site", "product", "consumed", "expired", "lost", "stock_out_days"])
    for row in report["products"]:
        writer.writerow([report["month"], row["site_name"], row["product_code"], row["consumed"], row["expired"],
                         row["lost"], row["stock_out_days"]])
    writer.writerow([])
    writer.writerow(["month", "coverage_type", "patients", "free_of_charge"])
    for row in report["patients_by_coverage"]:
        writer.writerow([report["month"], row["coverage_type"], row["patients"], row["free_of_charge"]])
    return out.getvalue()
