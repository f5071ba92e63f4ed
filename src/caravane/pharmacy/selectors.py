"""Reads of the medicines' stock: a site's stock with its alerts, consumption, what a prescription needs, the chart."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from caravane.core.events import group_name
from caravane.pharmacy import dosing, tour_plans
from caravane.pharmacy.models import LotBalance, MedicationDispense, Product, StockedProduct, StockMovement

EXPIRY_WARNING_DAYS = 90
CONSUMPTION_MONTHS = 3


def stock_group(site_id) -> str:
    """The channel-layer group told when a site's stock changes."""
    return group_name("pharmacy", "stock", site_id)


def monthly_consumption(site, day: datetime.date | None = None, months: int = CONSUMPTION_MONTHS) -> dict:
    """Average monthly consumption per product id over the last ``months`` months, from the ledger's dispensing."""
    day = day or timezone.localdate()
    since = timezone.make_aware(datetime.datetime.combine(day - datetime.timedelta(days=30 * months),
                                                          datetime.time.min))
    rows = (StockMovement.objects.filter(site=site, kind__in=StockMovement.CONSUMPTION, occurred_at__gte=since)
            .values("product_id").annotate(used=Sum("quantity")))
    return {row["product_id"]: Decimal(-row["used"]) / months for row in rows}


@dataclass
class ProductStock:
    product: Product
    on_hand: int = 0
    lots: list = field(default_factory=list)
    monthly_use: Decimal = Decimal(0)
    min_months: Decimal | None = None
    max_months: Decimal | None = None
    expiring: list = field(default_factory=list)
    expired: list = field(default_factory=list)

    @property
    def months_of_stock(self) -> Decimal | None:
        return (Decimal(self.on_hand) / self.monthly_use).quantize(Decimal("0.1")) if self.monthly_use else None

    @property
    def stock_out(self) -> bool:
        return self.usable <= 0

    @property
    def usable(self) -> int:
        return self.on_hand - sum(balance.quantity for balance in self.expired)

    @property
    def below_min(self) -> bool:
        if self.stock_out or self.min_months is None:
            return False
        months = self.months_of_stock
        return months is not None and months < self.min_months

    @property
    def to_order(self) -> int:
        """Units that bring the stock back to its maximum (0 when at or above it, or with no consumption)."""
        if self.max_months is None or not self.monthly_use:
            return 0
        return max(0, int((self.max_months * self.monthly_use).to_integral_value()) - self.usable)


def site_stock(site, day: datetime.date | None = None) -> list[ProductStock]:
    """The stock of a site per product (stocked at its level, or held): lots first-expiry first, with alerts."""
    day = day or timezone.localdate()
    soon = day + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
    products: dict = {}
    for level in StockedProduct.objects.filter(level=site.kind).select_related("product__medicine"):
        products[level.product_id] = ProductStock(level.product, min_months=level.min_months,
                                                  max_months=level.max_months)
    balances = (LotBalance.objects.filter(site=site, quantity__gt=0).select_related("lot", "product__medicine")
                .order_by("lot__expiry_date"))
    for balance in balances:
        stock = products.setdefault(balance.product_id, ProductStock(balance.product))
        stock.on_hand += balance.quantity
        stock.lots.append(balance)
        if balance.lot.expiry_date < day:
            stock.expired.append(balance)
        elif balance.lot.expiry_date <= soon:
            stock.expiring.append(balance)
    for product_id, used in monthly_consumption(site, day).items():
        if product_id in products:
            products[product_id].monthly_use = used
    return sorted(products.values(), key=lambda stock: stock.product.label.lower())


@dataclass(frozen=True)
class Alert:
    site: object
    kind: str  # stock_out, below_min, expiring, expired
    stock: ProductStock


def alerts(sites, day: datetime.date | None = None) -> list[Alert]:
    """Stock-out, below-minimum, expired and expiring-within-90-days alerts of the given sites."""
    found = []
    for site in sites:
        for stock in site_stock(site, day):
            if stock.stock_out:
                found.append(Alert(site, "stock_out", stock))
            elif stock.below_min:
                found.append(Alert(site, "below_min", stock))
            if stock.expired:
                found.append(Alert(site, "expired", stock))
            if stock.expiring:
                found.append(Alert(site, "expiring", stock))
    return found


def lot_balance(site, lot) -> int:
    """The quantity of a lot on hand at a site."""
    row = LotBalance.objects.filter(site=site, lot=lot).values_list("quantity", flat=True).first()
    return row or 0


def matching_products(prescription, products) -> list[Product]:
    """The stocked products whose medicine the prescription names (its DCI in any language), best first."""
    text = prescription.medication.casefold()
    found = []
    for product in products:
        names = [product.medicine.inn, product.medicine.name_fr, product.medicine.name_ar]
        if any(name and name.casefold() in text for name in names):
            strength = bool(product.strength) and product.strength.replace(" ", "").casefold() in \
                text.replace(" ", "")
            found.append((not strength, product.code, product))
    return [product for _strength, _code, product in sorted(found, key=lambda item: item[:2])]


@dataclass
class LineToDispense:
    prescription: object
    products: list
    product: Product | None
    proposed: int | None
    dispensed: int
    dispenses: list
    fefo_lot: object | None
    usable: int

    @property
    def owed(self) -> int | None:
        if self.proposed is None:
            return None
        return max(self.proposed - self.dispensed, 0)

    @property
    def suggested(self) -> int | None:
        """The quantity the form proposes: what is owed, as far as the usable stock allows."""
        if self.owed is None:
            return None
        return min(self.owed, self.usable)


def lines_to_dispense(site, prescriptions, day: datetime.date | None = None) -> list[LineToDispense]:
    """For each prescription line: the site's matching products, the course in units, what was dispensed, and
    the first-expiry lot that would be issued."""
    day = day or timezone.localdate()
    stocked = list(Product.objects.filter(active=True).filter(
        Q(stocked_at__level=site.kind) | Q(pk__in=LotBalance.objects.filter(site=site, quantity__gt=0)
                                           .values("product_id"))).select_related("medicine").distinct())
    dispenses: dict = {}
    for dispense in (MedicationDispense.objects.filter(prescription__in=[p.pk for p in prescriptions])
                     .select_related("product__medicine", "dispenser")):
        dispenses.setdefault(dispense.prescription_id, []).append(dispense)
    usable: dict = {}
    first: dict = {}
    for balance in (LotBalance.objects.filter(site=site, quantity__gt=0, lot__expiry_date__gte=day)
                    .select_related("lot").order_by("lot__expiry_date")):
        usable[balance.product_id] = usable.get(balance.product_id, 0) + balance.quantity
        first.setdefault(balance.product_id, balance.lot)
    lines = []
    for prescription in prescriptions:
        done = dispenses.get(prescription.pk, [])
        matches = matching_products(prescription, stocked)
        product = done[-1].product if done else (matches[0] if matches else None)
        proposed = dosing.proposed_quantity(prescription, product) if product else None
        lines.append(LineToDispense(
            prescription=prescription, products=matches or stocked, product=product, proposed=proposed,
            dispensed=sum(d.quantity for d in done), dispenses=done,
            fefo_lot=first.get(product.pk) if product else None, usable=usable.get(product.pk, 0) if product else 0))
    return lines


def dispenses_of(patient_ids) -> list[MedicationDispense]:
    """What was dispensed to these patient records (a chart's, merged records included), oldest first."""
    return list(MedicationDispense.objects.filter(patient_id__in=list(patient_ids))
                .select_related("product__medicine", "site", "dispenser", "prescription")
                .prefetch_related("movements__lot").order_by("handed_over_at"))


def chart_entries(patient) -> list[tuple[datetime.datetime, MedicationDispense]]:
    """The chart timeline's entries for what was dispensed to the patient: (handed over at, dispense)."""
    from caravane.patients.selectors import linked_record_ids

    return [(dispense.handed_over_at, dispense) for dispense in dispenses_of(linked_record_ids(patient))]


# --- A mobile unit's tour ------------------------------------------------------------------------------------------

SAFETY_FACTOR = Decimal("1.25")  # a quarter more than the expected use: a stop may see more patients than usual


@dataclass
class TourLine:
    stock: ProductStock
    per_stop_day: Decimal
    needed: int
    since_start: dict = field(default_factory=dict)

    @property
    def to_load(self) -> int:
        """Units to take from the base before leaving (0 when the van already holds enough)."""
        return max(0, self.needed - self.stock.usable)


def stop_days(unit, day: datetime.date | None = None, weeks: int = 12) -> int:
    """Days the unit held consultations (visits recorded there) in the last ``weeks`` weeks."""
    from caravane.care.models import Encounter

    day = day or timezone.localdate()
    return (Encounter.objects.filter(site=unit, service_date__gt=day - datetime.timedelta(weeks=weeks),
                                     service_date__lte=day).values("service_date").distinct().count())


# The tour the load list prepares: the unit's stops of the coming week.
TOUR_HORIZON_DAYS = 7
DEFAULT_STOP_DAYS = 5  # without a plan nor a number given: a working week of stops


def tour_days(unit, asked: int | None = None, day: datetime.date | None = None) -> tuple[int, list[datetime.date]]:
    """The stop days the load list counts, and the planned dates behind them: the number asked for if any,
    else the unit's planned stops of the coming week (planning's, through ``tour_plans``), else a working week."""
    planned = tour_plans.planned_days(unit, day or timezone.localdate(), TOUR_HORIZON_DAYS)
    if asked is not None:
        return asked, planned
    return (len(planned) or DEFAULT_STOP_DAYS), planned


def load_list(unit, planned_days: int, day: datetime.date | None = None) -> list[TourLine]:
    """Before a tour: per product, the use expected over ``planned_days`` stop days (past consumption per day the
    unit worked, with a safety margin) against what the van holds, and what to load."""
    day = day or timezone.localdate()
    worked = stop_days(unit, day) or 12 * 4  # no visit recorded yet: four stop days a week
    lines = []
    for stock in site_stock(unit, day):
        per_day = stock.monthly_use * CONSUMPTION_MONTHS / worked
        needed = int((per_day * planned_days * SAFETY_FACTOR).to_integral_value(rounding="ROUND_CEILING"))
        lines.append(TourLine(stock, per_day, needed))
    return lines


def reconciliation(unit, since: datetime.datetime) -> dict:
    """After a tour: per product id, the units out of the van since it left, by kind (dispensed, transfers,
    losses...), from the ledger; the count that follows compares the shelf with what the ledger then holds."""
    movements = {}
    for row in (StockMovement.objects.filter(site=unit, occurred_at__gte=since)
                .values("product_id", "kind").annotate(total=Sum("quantity"))):
        movements.setdefault(row["product_id"], {})[row["kind"]] = row["total"]
    return movements
