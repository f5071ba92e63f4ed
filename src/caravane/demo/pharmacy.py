"""Demo medicines: the WHO list, the primary-care products the programme stocks, a provincial depot for each
pilot province, and three months of stock history at the pilot centres and the mobile units.

Imilchil's centre shows the alerts: amoxicillin 1 g close to a stock-out, and a paracetamol lot expiring within
90 days. Like the other demo builders it is idempotent (a site that already has a ledger is left alone), and
writes its history in bulk in one transaction with one audit row: the actions stamp movements "now", and a
history needs past dates. Past consumption is carried over as weekly totals, as from a paper register.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from caravane.audit.actions import do_record_audit
from caravane.demo.network import demo_id
from caravane.geo.models import Commune
from caravane.network.models import Site, StaffMember
from caravane.pharmacy.actions import do_import_who_list
from caravane.pharmacy.catalogue import ListMissing
from caravane.pharmacy.models import (
    Delivery, LotBalance, Lot, Medicine, Product, StockedProduct, StockMovement,
)

SEED = 2028
HISTORY_WEEKS = 13
# (code, WHO list entry, INN, French, Arabic, form, strength, unit, dose unit, dose per unit, ATC,
#  monthly use at a centre)
PRODUCTS = [
    ("para-500-tab", "who-em16", "paracetamol", "paracétamol", "باراسيتامول", "tablet", "500 mg", "tablet", "tablet",
     1, "N02BE01", 600),
    ("para-120-syr", "who-em16", "paracetamol", "paracétamol", "باراسيتامول", "syrup", "120 mg/5 mL (100 mL)",
     "bottle", "mL", 100, "N02BE01", 40),
    ("amox-1g-tab", "who-em64", "amoxicillin", "amoxicilline", "أموكسيسيلين", "tablet", "1 g", "tablet", "tablet", 1,
     "J01CA04", 200),
    ("amox-500-cap", "who-em64", "amoxicillin", "amoxicilline", "أموكسيسيلين", "capsule", "500 mg", "capsule",
     "capsule", 1, "J01CA04", 150),
    ("ors-sachet", "who-em318", "oral rehydration salts", "sels de réhydratation orale", "أملاح الإماهة الفموية",
     "sachet", "20,5 g/L", "sachet", "sachet", 1, "A07CA", 120),
    ("zinc-20-tab", "who-em319", "zinc sulfate", "sulfate de zinc", "سلفات الزنك", "tablet", "20 mg", "tablet",
     "tablet", 1, "A12CB01", 80),
    ("omep-20-cap", "who-em310", "omeprazole", "oméprazole", "أوميبرازول", "capsule", "20 mg", "capsule", "capsule", 1,
     "A02BC01", 120),
    ("ibu-400-tab", "who-em15", "ibuprofen", "ibuprofène", "ايبوبروفين", "tablet", "400 mg", "tablet", "tablet", 1,
     "M01AE01", 150),
    ("nitro-100-cap", "who-em87", "nitrofurantoin", "nitrofurantoïne", "نتروفورانتوين", "capsule", "100 mg",
     "capsule", "capsule", 1, "J01XE01", 40),
    ("amlo-5-tab", "who-em253", "amlodipine", "amlodipine", "أملوديبين", "tablet", "5 mg", "tablet", "tablet", 1,
     "C08CA01", 300),
    ("metf-850-tab", "who-em337", "metformin", "metformine", "ميتفورمين", "tablet", "850 mg", "tablet", "tablet", 1,
     "A10BA02", 400),
    ("fer-fol-tab", "who-em226", "ferrous salt + folic acid", "sulfate ferreux + acide folique",
     "ملح الحديدوز + حمض الفوليك", "tablet", "200 mg + 0,4 mg", "tablet", "tablet", 1, "B03AD03", 150),
    ("hydrocort-1-cream", "who-em206", "hydrocortisone", "hydrocortisone", "هيدروكورتيزون", "cream", "1 % (15 g)",
     "tube", "application", 30, "D07AA02", 10),
    ("salbu-100-inh", "who-em414", "salbutamol", "salbutamol", "سالبوتامول", "inhaler", "100 µg/dose (200 doses)",
     "inhaler", "puff", 200, "R03AC02", 6),
]
LEVELS = {StockedProduct.Level.DEPOT: (2, 6), StockedProduct.Level.CENTRE: (1, 3), StockedProduct.Level.UNIT: (0.5, 2)}
PILOT_PROVINCES_OF = ("rhc-zaouiat-ahansal", "rhc-ait-tamlil", "rhc-anfgou", "rhc-imilchil", "rhc-taliouine",
                      "rhc-talsint")
ALERT_SITE = "rhc-imilchil"
NEAR_STOCK_OUT = "amox-1g-tab"
NEAR_EXPIRY = "para-500-tab"


def _catalogue() -> dict[str, Product]:
    """The demo's products (on the WHO list's medicines when it was loaded), stocked at every level."""
    products = {}
    for code, who, inn, fr, ar, form, strength, unit, dose_unit, per_unit, atc, _use in PRODUCTS:
        medicine = Medicine.objects.filter(code=who).first()
        if medicine is None:
            medicine, _created = Medicine.objects.get_or_create(code=f"demo-{who}", defaults={
                "inn": inn, "name_fr": fr, "name_ar": ar, "source": Medicine.Source.NATIONAL})
        if not medicine.atc_code:
            Medicine.objects.filter(pk=medicine.pk).update(atc_code=atc)
        product, _created = Product.objects.get_or_create(code=code, defaults={
            "id": demo_id("product", code), "medicine": medicine, "form": form, "strength": strength, "unit": unit,
            "dose_unit": dose_unit, "dose_per_unit": Decimal(per_unit), "atc_code": atc})
        for level, (low, high) in LEVELS.items():
            StockedProduct.objects.get_or_create(product=product, level=level, defaults={
                "min_months": Decimal(str(low)), "max_months": Decimal(str(high))})
        products[code] = product
    return products


def _depots() -> list[Site]:
    """A provincial depot in the most populous commune of each pilot centre's province."""
    depots = []
    provinces = Site.objects.filter(code__in=PILOT_PROVINCES_OF).values_list("commune__province_id",
                                                                              "commune__province__name_fr")
    for province_id, province_name in sorted(set(provinces)):
        commune = Commune.objects.filter(province_id=province_id).order_by("-population_2024").first()
        code = f"depot-{province_id.replace('.', '-')}"
        depot, _created = Site.objects.get_or_create(code=code, defaults={
            "id": demo_id("site", code), "name": f"Dépôt provincial de médicaments – {province_name}",
            "name_ar": f"المستودع الإقليمي للأدوية – {commune.province.name_ar}",
            "kind": Site.Kind.PROVINCIAL_DEPOT, "commune": commune, "latitude": commune.centroid_lat,
            "longitude": commune.centroid_lon})
        depots.append(depot)
    return depots


class _History:
    """The rows of one site's ledger, with the lots' running balances."""

    def __init__(self, site: Site, staff: StaffMember):
        self.site, self.staff = site, staff
        self.movements: list[StockMovement] = []
        self.deliveries: list[Delivery] = []
        self.balances: dict = {}

    def receive(self, note: str, when: datetime.datetime, lots: list[tuple[Lot, int]]) -> None:
        delivery = Delivery(id=demo_id("delivery", self.site.code, note), site=self.site, note_number=note,
                            supplier="Dépôt provincial" if self.site.kind != Site.Kind.PROVINCIAL_DEPOT
                            else "Pharmacie centrale (Division de l'approvisionnement)",
                            received_on=timezone.localdate(when), received_by=self.staff)
        self.deliveries.append(delivery)
        for lot, quantity in lots:
            self._move(lot, quantity, StockMovement.Kind.RECEIPT, when, delivery=delivery)

    def consume(self, lot: Lot, quantity: int, when: datetime.datetime) -> None:
        quantity = min(quantity, self.balances.get(lot, 0))
        if quantity:
            self._move(lot, -quantity, StockMovement.Kind.DISPENSE, when,
                       reason="Total de la semaine (registre papier)")

    def _move(self, lot: Lot, delta: int, kind: str, when, **links) -> None:
        balance = self.balances.get(lot, 0) + delta
        self.balances[lot] = balance
        self.movements.append(StockMovement(
            id=demo_id("movement", self.site.code, len(self.movements)), site=self.site, product=lot.product,
            lot=lot, kind=kind, quantity=delta, balance_after=balance, occurred_at=when, recorded_by=self.staff,
            **links))


def _lot(product: Product, batch: str, expiry: datetime.date) -> Lot:
    lot, _created = Lot.objects.get_or_create(product=product, batch_number=batch, defaults={
        "id": demo_id("lot", product.code, batch), "expiry_date": expiry})
    return lot


def _site_history(site: Site, staff: StaffMember, products: dict, now, rng: random.Random) -> _History:
    """About three months of a site's stock: a delivery, weekly consumption, a resupply; Imilchil's alerts."""
    history = _History(site, staff)
    today = timezone.localdate(now)
    scale = {Site.Kind.PROVINCIAL_DEPOT: 8, Site.Kind.MOBILE_UNIT: 0.6}.get(site.kind, 1)
    start = now - datetime.timedelta(weeks=HISTORY_WEEKS)
    first, second = [], []
    for code, product in products.items():
        use = max(1, round(PRODUCTS_BY_CODE[code][-1] * scale))
        batch = f"{code[:4].upper()}{rng.randint(10000, 99999)}"
        first.append((_lot(product, f"{batch}A", today + datetime.timedelta(days=rng.randint(120, 300))),
                      round(use * 2.2)))
        second.append((_lot(product, f"{batch}B", today + datetime.timedelta(days=rng.randint(400, 700))),
                       round(use * 2.8)))
    history.receive(f"BL-{site.code[-6:].upper()}-{start:%y%m}", start, first)
    resupply = start + datetime.timedelta(weeks=7)
    for week in range(HISTORY_WEEKS):
        when = start + datetime.timedelta(weeks=week, days=6)
        if week == 7:
            history.receive(f"BL-{site.code[-6:].upper()}-{resupply:%y%m}", resupply, second)
        for (lot, _q), (later, _q2) in zip(first, second):
            weekly = max(0, round(PRODUCTS_BY_CODE[lot.product.code][-1] * scale / 4.3 * rng.uniform(0.7, 1.3)))
            left = history.balances.get(lot, 0)
            history.consume(lot, weekly, when)
            if weekly > left and week >= 7:
                history.consume(later, weekly - left, when)
    if site.code == ALERT_SITE:
        _imilchil_alerts(history, products, now, today)
    return history


def _imilchil_alerts(history: _History, products: dict, now, today: datetime.date) -> None:
    """Amoxicillin 1 g down to a few days of stock; a paracetamol lot received that expires within 90 days."""
    for lot, balance in list(history.balances.items()):
        if lot.product.code == NEAR_STOCK_OUT and balance > 12:
            history.consume(lot, balance - 12, now - datetime.timedelta(days=1))
    soon = _lot(products[NEAR_EXPIRY], "PARA-EXP-2601", today + datetime.timedelta(days=45))
    history.receive("BL-IMILCHIL-DON", now - datetime.timedelta(days=20), [(soon, 200)])


PRODUCTS_BY_CODE = {row[0]: row for row in PRODUCTS}


def build_demo_pharmacy() -> dict[str, int]:
    """Add the demo catalogue, depots and stock history (after the demo network and care); returns counts."""
    now = timezone.now()
    rng = random.Random(SEED)
    try:
        do_import_who_list()  # its own transaction and audit row
    except ListMissing:
        pass  # the products then carry the demo's own names
    with transaction.atomic(durable=True):
        products = _catalogue()
        depots = _depots()
        sites = depots + list(Site.objects.filter(code__in=PILOT_PROVINCES_OF)) + list(
            Site.objects.filter(kind=Site.Kind.MOBILE_UNIT).order_by("code"))
        with_ledger = set(StockMovement.objects.values_list("site_id", flat=True).distinct())
        fallback = StaffMember.objects.filter(role="pharmacist").first() or StaffMember.objects.first()
        movements, deliveries, balances = [], [], []
        for site in sites:
            if site.pk in with_ledger:
                continue
            staff = (StaffMember.objects.filter(assignments__site=site, role__in=("pharmacist", "nurse"))
                     .order_by("role").first() or fallback)
            history = _site_history(site, staff, products, now, rng)
            deliveries += history.deliveries
            movements += history.movements
            balances += [LotBalance(site=site, lot=lot, product=lot.product, quantity=quantity)
                         for lot, quantity in history.balances.items()]
        Delivery.objects.bulk_create(deliveries, batch_size=500)
        StockMovement.objects.bulk_create(movements, batch_size=1000)
        LotBalance.objects.bulk_create(balances, batch_size=1000)
        counts = {"products": Product.objects.count(), "depots": len(depots),
                  "sites_with_stock": LotBalance.objects.values("site").distinct().count(),
                  "stock_movements": StockMovement.objects.count(), "added_movements": len(movements),
                  "units_on_hand": LotBalance.objects.aggregate(n=Sum("quantity"))["n"] or 0}
        do_record_audit(actor=None, action="build_demo_pharmacy", target=("pharmacy.demo", ""), detail=counts)
    return counts
