"""State changes of the medicines' stock: receipts, transfers, dispensing, counts, write-offs and requisitions.

Each action checks the permission and the site's scope first, then in one durable transaction appends the
ledger lines, updates the lots' balances under a row lock (a balance never goes below zero: a second
dispenser of the last units waits for the first and is refused), writes exactly one audit row and, once
committed, tells the site's stock pages.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.care.models import MedicationRequest
from caravane.core.access import Perm, scope_of
from caravane.core.errors import TransitionError
from caravane.core.events import publish_on_commit
from caravane.core.idempotency import action_transaction
from caravane.network.models import Site
from caravane.patients.models import Patient
from caravane.patients.selectors import coverage_status
from caravane.pharmacy import catalogue, dosing
from caravane.pharmacy.models import (
    Category, Delivery, LotBalance, Lot, MedicationDispense, Medicine, Product, Requisition, RequisitionLine,
    StockedProduct, StockMovement, StockSite, Transfer, TransferLine, stock_scope,
)
from caravane.pharmacy.reports import STOCK_KINDS
from caravane.pharmacy.selectors import stock_group

Kind = StockMovement.Kind
# Coverage schemes under which the programme's stock is dispensed free of charge (while the card is valid).
FREE_SCHEMES = (Patient.Coverage.RAMED, Patient.Coverage.AMO_TADAMON)
MAX_QUANTITY = 1_000_000


def in_stock_scope(user, site: Site) -> bool:
    """Whether ``site``'s stock lies in ``user``'s scope (a depot's staff reach their province)."""
    scope = scope_of(user)
    return scope.national or Site.objects.filter(stock_scope(scope, ""), pk=site.pk).exists()


def _authorize(actor, site: Site, perm: Perm, action: str) -> None:
    # A site read as StockSite (the API's rows) is in reach as its rows say: the decision its request took before
    # reading the input answers again at no cost. A plain site is asked with its stock scope.
    in_scope = None if isinstance(site, StockSite) else in_stock_scope(actor, site)
    gate.require(actor, perm, site, in_scope=in_scope, audit_action=action, site=site,
                 message=_("You may not do this for this site's stock."))


def _staff(actor):
    return gate.staff_of(actor, Perm.VIEW_STOCK, message=_("Only staff members can move stock."))


def _finish(actor, site: Site, action: str, target, detail: dict) -> None:
    do_record_audit(actor=actor, action=action, target=target, site=site, detail=detail)
    publish_on_commit(stock_group(site.pk), "stock.changed", {"site": str(site.pk), "action": action})


def _quantity(value, field: str = "quantity") -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: _("Quantity: a whole number is expected.")})
    if not 1 <= number <= MAX_QUANTITY:
        raise ValidationError({field: _("Quantity: between 1 and %(max)s.") % {"max": f"{MAX_QUANTITY:,}"}})
    return number


def _move(*, site: Site, lot: Lot, delta: int, kind: str, staff, when, **links) -> StockMovement:
    """Append one ledger line and update the lot's balance at the site, under its row lock."""
    if delta > 0:
        # The balance row exists before it is locked (two first receipts of a lot racing insert it once).
        LotBalance.objects.bulk_create([LotBalance(site=site, lot=lot, product_id=lot.product_id, quantity=0)],
                                       ignore_conflicts=True)
    balance = LotBalance.objects.select_for_update().filter(site=site, lot=lot).first()
    on_hand = balance.quantity if balance else 0
    if on_hand + delta < 0:
        raise ValidationError({"quantity": _(
            "Only %(on_hand)s of lot %(lot)s on hand at %(site)s: nothing was changed.") % {
            "on_hand": on_hand, "lot": lot.batch_number, "site": site.localized_name}})
    LotBalance.objects.filter(pk=balance.pk).update(quantity=on_hand + delta, updated_at=timezone.now())
    return StockMovement.objects.create(site=site, product_id=lot.product_id, lot=lot, kind=kind, quantity=delta,
                                        balance_after=on_hand + delta, occurred_at=when, recorded_by=staff, **links)


def _refuse_expired(lot: Lot, day: datetime.date) -> None:
    if lot.expiry_date < day:
        raise ValidationError({"lot": _("Lot %(lot)s expired on %(date)s: it cannot be issued.") % {
            "lot": lot.batch_number, "date": lot.expiry_date.strftime("%d/%m/%Y")}})


# --- Catalogue ----------------------------------------------------------------------------------------------------

def _catalogue_gate(actor, action: str) -> None:
    # Commands run by the operator act as the system (actor None); people need the catalogue permission.
    if actor is not None:
        gate.require(actor, Perm.MANAGE_CATALOGUE, ("pharmacy.product", ""), in_scope=True, audit_action=action)


def do_import_who_list(*, actor=None, directory=None) -> dict:
    """Load (or refresh) the WHO Model List's categories and medicines from its registry package."""
    _catalogue_gate(actor, "pharmacy.import_who_list")
    categories, medicines = catalogue.who_list(directory)
    with action_transaction():
        for row in categories:
            Category.objects.update_or_create(code=row.code, defaults={
                "parent_id": row.parent, "name_en": row.name_en, "name_fr": row.name_fr, "name_ar": row.name_ar})
        for row in medicines:
            Medicine.objects.update_or_create(code=row.code, defaults={
                "inn": row.inn[:200], "name_fr": row.name_fr[:200], "name_ar": row.name_ar[:200],
                "category_id": row.category, "presentations": row.presentations, "source": Medicine.Source.WHO})
        counts = {"categories": len(categories), "medicines": len(medicines)}
        do_record_audit(actor=actor, action="pharmacy.import_who_list", target=("pharmacy.medicine", ""),
                        detail=counts)
    return counts


def do_import_national_list(*, actor=None, content) -> catalogue.CsvReport:
    """Load a national list (CSV): each valid row becomes a medicine and its stocked presentation; the report
    names every rejected line and why, and nothing of a rejected line is kept."""
    _catalogue_gate(actor, "pharmacy.import_national_list")
    report = catalogue.read_national_csv(
        content, forms=Product.Form.values, units=Product.Unit.values,
        dose_units=set(Product.Unit.values) | {"mL", "mg", "g", "IU", "drop", "puff", "spoon", "application"},
        categories=set(Category.objects.values_list("code", flat=True)))
    with action_transaction():
        for row in report.accepted:
            values = row.values
            medicine, _created = Medicine.objects.update_or_create(code=f"national-{values['code']}", defaults={
                "inn": values["inn"], "name_fr": values["name_fr"], "name_ar": values["name_ar"],
                "category_id": values["category"] or None, "atc_code": values["atc_code"],
                "source": Medicine.Source.NATIONAL})
            dose = values["dose_per_unit"].replace(",", ".")
            Product.objects.update_or_create(code=values["code"], defaults={
                "medicine": medicine, "form": values["form"], "strength": values["strength"], "unit": values["unit"],
                "atc_code": values["atc_code"], "dose_unit": values["dose_unit"],
                "dose_per_unit": Decimal(dose) if dose else None})
        do_record_audit(actor=actor, action="pharmacy.import_national_list", target=("pharmacy.product", ""),
                        detail={"accepted": len(report.accepted), "rejected": len(report.rejected)})
    return report


def do_set_stocked_product(*, actor, product: Product, level: str, min_months, max_months) -> StockedProduct:
    """Stock ``product`` at a level of the network, between a minimum and a maximum in months of stock."""
    _catalogue_gate(actor, "pharmacy.set_stocked_product")
    if level not in StockedProduct.Level.values:
        raise ValidationError({"level": _("Level: a depot, a rural health centre or a mobile unit.")})
    try:
        low, high = Decimal(str(min_months)), Decimal(str(max_months))
    except ArithmeticError:
        raise ValidationError({"min_months": _("Months of stock: numbers are expected.")})
    if not (low.is_finite() and high.is_finite() and 0 <= low <= high <= 24):
        raise ValidationError({"min_months": _("Months of stock: a minimum no greater than the maximum, "
                                               "both between 0 and 24.")})
    with action_transaction():
        row, _created = StockedProduct.objects.update_or_create(product=product, level=level, defaults={
            "min_months": low, "max_months": high})
        do_record_audit(actor=actor, action="pharmacy.set_stocked_product", target=product,
                        detail={"level": level, "min_months": str(low), "max_months": str(high)})
    return row


# --- Receipts, transfers, counts and write-offs --------------------------------------------------------------------

def _delivery_lines(lines, day: datetime.date) -> list[tuple[Product, str, datetime.date, int]]:
    parsed = []
    for index, line in enumerate(lines):
        product, batch = line.get("product"), (line.get("batch_number") or "").strip().upper()
        expiry = line.get("expiry_date")
        if isinstance(expiry, str):
            expiry = catalogue.parse_date(expiry)
        if not isinstance(product, Product) or not product.active:
            raise ValidationError({f"lines.{index}.product": _("Line %(n)s: choose a product.") % {"n": index + 1}})
        if not batch or len(batch) > 40 or not batch.isprintable():
            raise ValidationError({f"lines.{index}.batch_number": _(
                "Line %(n)s: the batch number (40 characters at most).") % {"n": index + 1}})
        if not isinstance(expiry, datetime.date):
            raise ValidationError({f"lines.{index}.expiry_date": _(
                "Line %(n)s: the expiry date, as day/month/year.") % {"n": index + 1}})
        if expiry < day:
            raise ValidationError({f"lines.{index}.expiry_date": _(
                "Line %(n)s: lot %(lot)s is already expired; it cannot be received.") % {"n": index + 1, "lot": batch}})
        parsed.append((product, batch, expiry, _quantity(line.get("quantity"), f"lines.{index}.quantity")))
    if not parsed:
        raise ValidationError({"lines": _("A delivery needs at least one line.")})
    return parsed


def _lot(product: Product, batch: str, expiry: datetime.date) -> Lot:
    lot, _created = Lot.objects.get_or_create(product=product, batch_number=batch, defaults={"expiry_date": expiry})
    if lot.expiry_date != expiry:
        raise ValidationError({"lines": _("Lot %(lot)s of %(product)s is known with the expiry date %(date)s.") % {
            "lot": batch, "product": product.label, "date": lot.expiry_date.strftime("%d/%m/%Y")}})
    return lot


def do_receive_delivery(*, actor, site: Site, note_number: str, supplier: str, lines: list[dict],
                        received_on: datetime.date | None = None) -> Delivery:
    """Receive a delivery at a site by its note's number: each line a product, batch, expiry and quantity.

    The same note entered twice at a site is refused, and nothing of the second entry is kept."""
    _authorize(actor, site, Perm.MANAGE_STOCK, "pharmacy.receive_delivery")
    staff = _staff(actor)
    now = timezone.now()
    received_on = received_on or timezone.localdate(now)
    note_number = " ".join((note_number or "").split()).upper()
    supplier = " ".join((supplier or "").split())
    if not note_number or len(note_number) > 40 or not note_number.isprintable():
        raise ValidationError({"note_number": _("Delivery note number: required, 40 characters at most.")})
    if not supplier or len(supplier) > 120 or not supplier.isprintable():
        raise ValidationError({"supplier": _("Supplier: required, 120 characters at most.")})
    parsed = _delivery_lines(lines, received_on)
    twice = ValidationError({"note_number": _(
        "Delivery note %(number)s was already received at %(site)s: nothing was added.") % {
        "number": note_number, "site": site.localized_name}})
    with action_transaction():
        if Delivery.objects.filter(site=site, note_number=note_number).exists():
            raise twice
        try:
            with transaction.atomic():  # two clerks entering the same note at once: the constraint stops one
                delivery = Delivery.objects.create(site=site, note_number=note_number, supplier=supplier,
                                                   received_on=received_on, received_by=staff)
        except IntegrityError:
            raise twice from None
        for product, batch, expiry, quantity in parsed:
            _move(site=site, lot=_lot(product, batch, expiry), delta=quantity, kind=Kind.RECEIPT, staff=staff,
                  when=now, delivery=delivery)
        _finish(actor, site, "pharmacy.receive_delivery", delivery,
                {"note_number": note_number, "lines": len(parsed), "units": sum(line[3] for line in parsed)})
    return delivery


def _transfer_lines(lines, site: Site, day: datetime.date) -> list[tuple[Lot, int]]:
    parsed = []
    for index, line in enumerate(lines):
        lot = line.get("lot")
        if not isinstance(lot, Lot):
            raise ValidationError({f"lines.{index}.lot": _("Line %(n)s: choose a lot.") % {"n": index + 1}})
        _refuse_expired(lot, day)
        parsed.append((lot, _quantity(line.get("quantity"), f"lines.{index}.quantity")))
    if not parsed:
        raise ValidationError({"lines": _("A transfer needs at least one line.")})
    return parsed


def transfer_destinations(site: Site):
    """The sites ``site`` may ship to: the other open sites holding stock in its province (its depot among them)."""
    return Site.objects.filter(kind__in=STOCK_KINDS, active=True,
                               commune__province_id=site.commune.province_id).exclude(pk=site.pk)


def do_ship_transfer(*, actor, from_site: Site, to_site: Site, lines: list[dict],
                     requisition: Requisition | None = None) -> Transfer:
    """Send lots from one site to another: out of the sender's stock now, in transit until received."""
    _authorize(actor, from_site, Perm.MANAGE_STOCK, "pharmacy.ship_transfer")
    staff = _staff(actor)
    now = timezone.now()
    if to_site.pk == from_site.pk:
        raise ValidationError({"to_site": _("Destination: another site than the sender.")})
    if not to_site.active:
        raise ValidationError({"to_site": _("Destination: this site is closed.")})
    if not transfer_destinations(from_site).filter(pk=to_site.pk).exists():
        raise ValidationError({"to_site": _(
            "Destination: a centre, a mobile unit or the depot of the sender's province.")})
    parsed = _transfer_lines(lines, from_site, timezone.localdate(now))
    with action_transaction():
        if requisition is not None:
            requisition = Requisition.objects.select_for_update().get(pk=requisition.pk)
            if requisition.status != Requisition.Status.APPROVED or requisition.depot_id != from_site.pk \
                    or requisition.site_id != to_site.pk:
                raise TransitionError(_("Only an approved requisition is shipped, from its depot to its site."))
            Requisition.objects.filter(pk=requisition.pk).update(status=Requisition.Status.SHIPPED,
                                                                 updated_at=now)
        transfer = Transfer.objects.create(from_site=from_site, to_site=to_site, shipped_by=staff,
                                           requisition=requisition)
        for lot, quantity in sorted(parsed, key=lambda line: line[0].pk):  # locks in one order: no deadlock
            TransferLine.objects.create(transfer=transfer, lot=lot, quantity=quantity)
            _move(site=from_site, lot=lot, delta=-quantity, kind=Kind.TRANSFER_OUT, staff=staff, when=now,
                  transfer=transfer)
        _finish(actor, from_site, "pharmacy.ship_transfer", transfer,
                {"to_site": str(to_site.pk), "lines": len(parsed), "units": sum(q for _lot, q in parsed)})
    publish_on_commit(stock_group(to_site.pk), "stock.changed", {"site": str(to_site.pk)})
    return transfer


def do_receive_transfer(*, actor, transfer: Transfer) -> Transfer:
    """Take a transfer in transit into the receiving site's stock (once)."""
    site = transfer.to_site
    _authorize(actor, site, Perm.MANAGE_STOCK, "pharmacy.receive_transfer")
    staff = _staff(actor)
    now = timezone.now()
    with action_transaction():
        transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.status != Transfer.Status.IN_TRANSIT:
            raise TransitionError(_("This transfer was already received."))
        Transfer.objects.filter(pk=transfer.pk).update(status=Transfer.Status.RECEIVED, received_by=staff,
                                                       received_at=now, updated_at=now)
        lines = list(transfer.lines.select_related("lot").order_by("lot_id"))
        for line in lines:
            _move(site=site, lot=line.lot, delta=line.quantity, kind=Kind.TRANSFER_IN, staff=staff, when=now,
                  transfer=transfer)
        if transfer.requisition_id:
            Requisition.objects.filter(pk=transfer.requisition_id).update(status=Requisition.Status.RECEIVED,
                                                                          updated_at=now)
        _finish(actor, site, "pharmacy.receive_transfer", transfer,
                {"from_site": str(transfer.from_site_id), "units": sum(line.quantity for line in lines)})
    transfer.refresh_from_db()
    return transfer


# Write-offs and returns: the sign each kind takes, and whether it needs a reason.
SINGLE_MOVEMENTS = {Kind.LOSS: -1, Kind.EXPIRY: -1, Kind.RETURN: +1}


def do_record_movement(*, actor, site: Site, lot: Lot, kind: str, quantity, reason: str = "") -> StockMovement:
    """A loss (broken, stolen), an expiry write-off (of an expired lot), or a patient's return of unused stock."""
    _authorize(actor, site, Perm.MANAGE_STOCK, f"pharmacy.record_{kind}" if kind in SINGLE_MOVEMENTS
               else "pharmacy.record_movement")
    staff = _staff(actor)
    if kind not in SINGLE_MOVEMENTS:
        raise ValidationError({"kind": _("Movement: a loss, an expiry write-off or a return.")})
    quantity = _quantity(quantity)
    reason = " ".join((reason or "").split())[:255]
    now = timezone.now()
    if kind == Kind.EXPIRY and lot.expiry_date >= timezone.localdate(now):
        raise ValidationError({"lot": _("Lot %(lot)s has not expired: write off a loss instead.") % {
            "lot": lot.batch_number}})
    if kind in (Kind.LOSS, Kind.RETURN) and not reason:
        raise ValidationError({"reason": _("Reason: say what happened.")})
    if kind == Kind.RETURN and not StockMovement.objects.filter(
            site=site, lot=lot, kind__in=(Kind.RECEIPT, Kind.TRANSFER_IN)).exists():
        raise ValidationError({"lot": _("Lot %(lot)s never entered this site's stock: only a lot it received "
                                        "is returned to it.") % {"lot": lot.batch_number}})
    with action_transaction():
        movement = _move(site=site, lot=lot, delta=SINGLE_MOVEMENTS[kind] * quantity, kind=kind, staff=staff,
                         when=now, reason=reason)
        _finish(actor, site, f"pharmacy.record_{kind}", movement,
                {"lot": lot.batch_number, "quantity": movement.quantity, "reason": reason})
    return movement


def do_count_stock(*, actor, site: Site, counts: dict[Lot, object], reason: str = "") -> list[StockMovement]:
    """A physical count: each lot's counted quantity; a variance becomes an adjustment with its reason."""
    _authorize(actor, site, Perm.MANAGE_STOCK, "pharmacy.count_stock")
    staff = _staff(actor)
    reason = " ".join((reason or "").split())[:255]
    counted = {}
    for lot, value in counts.items():
        try:
            counted[lot] = int(str(value).strip())
        except (TypeError, ValueError):
            raise ValidationError({"counts": _("Lot %(lot)s: the count is a whole number.") % {
                "lot": lot.batch_number}})
        if not 0 <= counted[lot] <= MAX_QUANTITY:
            raise ValidationError({"counts": _("Lot %(lot)s: the count cannot be negative.") % {
                "lot": lot.batch_number}})
    if not counted:
        raise ValidationError({"counts": _("Count at least one lot.")})
    now = timezone.now()
    with action_transaction():
        balances = {row.lot_id: row.quantity for row in LotBalance.objects.select_for_update()
                    .filter(site=site, lot__in=list(counted)).order_by("lot_id")}
        variances = {lot: number - balances.get(lot.pk, 0) for lot, number in counted.items()}
        if any(variances.values()) and not reason:
            raise ValidationError({"reason": _("Reason: the count differs from the stock; say why.")})
        movements = [_move(site=site, lot=lot, delta=variance, kind=Kind.ADJUSTMENT, staff=staff, when=now,
                           counted_quantity=counted[lot], reason=reason)
                     for lot, variance in sorted(variances.items(), key=lambda item: item[0].pk) if variance]
        _finish(actor, site, "pharmacy.count_stock", ("pharmacy.lotbalance", ""), {
            "lots": len(counted), "variances": {lot.batch_number: v for lot, v in variances.items() if v},
            "reason": reason})
    return movements


# --- Dispensing ----------------------------------------------------------------------------------------------------

def already_dispensed(prescription) -> int:
    """Units already handed over against a prescription line."""
    return MedicationDispense.objects.filter(prescription=prescription).aggregate(n=Sum("quantity"))["n"] or 0


def do_dispense(*, actor, prescription: MedicationRequest, site: Site, product: Product, quantity,
                lot: Lot | None = None) -> MedicationDispense:
    """Hand a prescribed medicine to the patient from the site's stock, first-expiry-first-out (or from ``lot``).

    More than the usable stock, an expired lot, or a prescription of another site is refused and changes
    nothing; less than the course is a partial dispense, and what is still owed is recorded. A valid RAMED or
    AMO-Tadamon card makes it free of charge, with the card's number recorded.
    """
    _authorize(actor, site, Perm.DISPENSE, "pharmacy.dispense")
    staff = _staff(actor)
    # Read afresh: the line may have been withdrawn, the patient's card renewed, since the page was drawn.
    prescription = MedicationRequest.objects.select_related("encounter__patient").get(pk=prescription.pk)
    encounter = prescription.encounter
    if encounter.site_id != site.pk:
        raise ValidationError({"prescription": _(
            "This prescription was written at another site; it is dispensed there.")})
    if prescription.status != MedicationRequest.Status.ACTIVE:
        raise ValidationError({"prescription": _("This prescription line was withdrawn.")})
    if not product.active:
        raise ValidationError({"product": _("Product: choose a stocked product.")})
    quantity = _quantity(quantity)
    now = timezone.now()
    today = timezone.localdate(now)
    if lot is not None:
        if lot.product_id != product.pk:
            raise ValidationError({"lot": _("Lot %(lot)s is not of this product.") % {"lot": lot.batch_number}})
        _refuse_expired(lot, today)
    patient = encounter.patient
    coverage = coverage_status(patient, on=today)
    with action_transaction():
        rows = LotBalance.objects.select_for_update().filter(site=site, product=product, quantity__gt=0)
        rows = rows.filter(lot=lot) if lot is not None else rows.filter(lot__expiry_date__gte=today)
        rows = list(rows.select_related("lot").order_by("lot__expiry_date", "lot_id"))
        usable = sum(row.quantity for row in rows)
        if quantity > usable:
            raise ValidationError({"quantity": _(
                "Only %(usable)s %(unit)s of %(product)s usable at %(site)s: nothing was dispensed.") % {
                "usable": usable, "unit": product.get_unit_display(), "product": product.label,
                "site": site.localized_name}})
        before = already_dispensed(prescription)
        course = dosing.proposed_quantity(prescription, product) or before + quantity
        dispense = MedicationDispense.objects.create(
            patient=patient, encounter=encounter, prescription=prescription, site=site, product=product,
            quantity=quantity, prescribed_quantity=course, owed=max(course - before - quantity, 0),
            coverage_type=coverage.kind, coverage_number=coverage.number, coverage_state=coverage.state,
            free_of_charge=coverage.kind in FREE_SCHEMES and coverage.state == "valid", dispenser=staff,
            handed_over_at=now)
        left = quantity
        for row in rows:  # first expiry first out
            taken = min(left, row.quantity)
            _move(site=site, lot=row.lot, delta=-taken, kind=Kind.DISPENSE, staff=staff, when=now, dispense=dispense)
            left -= taken
            if not left:
                break
        _finish(actor, site, "pharmacy.dispense", dispense, {
            "patient": str(patient.pk), "prescription": str(prescription.pk), "quantity": quantity,
            "owed": dispense.owed, "coverage": coverage.kind, "free_of_charge": dispense.free_of_charge})
    return dispense


# --- Requisitions -------------------------------------------------------------------------------------------------

def depot_of(site: Site) -> Site | None:
    """The provincial depot that supplies a site (the active depot of its province)."""
    return (Site.objects.filter(kind=Site.Kind.PROVINCIAL_DEPOT, active=True,
                                commune__province_id=site.commune.province_id).exclude(pk=site.pk)
            .order_by("name").first())


def do_request_stock(*, actor, site: Site, lines: dict[Product, object], note: str = "") -> Requisition:
    """A centre's or unit's order of products to its provincial depot."""
    _authorize(actor, site, Perm.MANAGE_STOCK, "pharmacy.request_stock")
    staff = _staff(actor)
    depot = depot_of(site)
    if depot is None:
        raise ValidationError({"site": _("No provincial depot supplies this site's province.")})
    wanted = {product: _quantity(value) for product, value in lines.items()}
    if not wanted:
        raise ValidationError({"lines": _("Order at least one product.")})
    with action_transaction():
        requisition = Requisition.objects.create(site=site, depot=depot, requested_by=staff,
                                                 note=" ".join((note or "").split())[:255])
        RequisitionLine.objects.bulk_create([RequisitionLine(requisition=requisition, product=product, quantity=n)
                                             for product, n in wanted.items()])
        _finish(actor, site, "pharmacy.request_stock", requisition, {"depot": str(depot.pk), "lines": len(wanted)})
    publish_on_commit(stock_group(depot.pk), "stock.changed", {"site": str(depot.pk)})
    return requisition


def do_review_requisition(*, actor, requisition: Requisition, approve: bool,
                          quantities: dict[int, object] | None = None) -> Requisition:
    """Approve a requisition (with the quantities the depot will send, the requested ones by default) or reject it."""
    depot = requisition.depot
    _authorize(actor, depot, Perm.APPROVE_REQUISITION, "pharmacy.review_requisition")
    staff = _staff(actor)
    quantities = quantities or {}
    with action_transaction():
        requisition = Requisition.objects.select_for_update().get(pk=requisition.pk)
        if requisition.status != Requisition.Status.REQUESTED:
            raise TransitionError(_("This requisition was already reviewed."))
        for line in requisition.lines.all():
            value = quantities.get(line.pk)
            line.approved_quantity = (_quantity(value) if value not in (None, "") else line.quantity) if approve else 0
            line.save(update_fields=["approved_quantity"])
        requisition.status = Requisition.Status.APPROVED if approve else Requisition.Status.REJECTED
        requisition.approved_by = staff
        requisition.save(update_fields=["status", "approved_by", "updated_at"])
        _finish(actor, depot, "pharmacy.review_requisition", requisition, {"status": requisition.status})
    publish_on_commit(stock_group(requisition.site_id), "stock.changed", {"site": str(requisition.site_id)})
    return requisition
