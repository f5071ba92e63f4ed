"""Pharmacy API: a site's stock and ledger, receipts, transfers, counts, write-offs, dispensing
(MedicationDispense), alerts and monthly reports; scoped like the pages (a site its own stock, a depot its
province, a coordinator their territory), each request asked of the gate before its input is read, and audited."""

import datetime
import uuid
from typing import Literal, Optional

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from caravane.audit import gate
from caravane.care.models import MedicationRequest
from caravane.core.access import Perm
from caravane.core.api import ERRORS, INPUT_ERRORS, BadInput, PageNumber, run_action
from caravane.core.idempotency import idempotent
from caravane.pharmacy import actions, reports, selectors
from caravane.pharmacy.models import (
    LotBalance, Lot, MedicationDispense, Product, Requisition, StockMovement, StockSite, Transfer,
)

router = Router(tags=["pharmacy"])
SITES = StockSite.objects.select_related("commune")
TRANSFERS = Transfer.objects.select_related("to_site__commune")


def _product(pk) -> Product:
    found = Product.objects.filter(pk=pk, active=True).select_related("medicine").first()
    if found is None:
        raise BadInput({"product": "No stocked product with this identifier."})
    return found


def _lot(pk, field: str = "lot") -> Lot:
    found = Lot.objects.filter(pk=pk).first()
    if found is None:
        raise BadInput({field: "No lot with this identifier."})
    return found


class LotOut(Schema):
    lot: uuid.UUID
    batch_number: str
    expiry_date: datetime.date
    quantity: int


class ProductStockOut(Schema):
    product: uuid.UUID
    code: str
    label: str
    unit: str
    on_hand: int
    usable: int
    monthly_consumption: float
    months_of_stock: Optional[float]
    min_months: Optional[float]
    max_months: Optional[float]
    alerts: list[str]
    lots: list[LotOut]


def _stock_out(stock: selectors.ProductStock) -> dict:
    flags = [name for name, on in (("stock_out", stock.stock_out), ("below_min", stock.below_min),
                                   ("expired", bool(stock.expired)), ("expiring", bool(stock.expiring))) if on]
    return {
        "product": stock.product.pk, "code": stock.product.code, "label": stock.product.label,
        "unit": stock.product.unit, "on_hand": stock.on_hand, "usable": stock.usable,
        "monthly_consumption": float(stock.monthly_use),
        "months_of_stock": float(stock.months_of_stock) if stock.months_of_stock is not None else None,
        "min_months": float(stock.min_months) if stock.min_months is not None else None,
        "max_months": float(stock.max_months) if stock.max_months is not None else None,
        "alerts": flags,
        "lots": [{"lot": b.lot_id, "batch_number": b.lot.batch_number, "expiry_date": b.lot.expiry_date,
                  "quantity": b.quantity} for b in stock.lots],
    }


@gate.before_input(Perm.VIEW_STOCK, SITES, param="site", audit_action="pharmacy.view_stock")
@router.get("/sites/{site}/stock", response={200: list[ProductStockOut], **ERRORS})
def site_stock(request, site: uuid.UUID):
    """A site's stock per product: lots first expiry first, consumption, months of stock and alerts."""
    found = gate.input_row(request)
    return [_stock_out(stock) for stock in selectors.site_stock(found)]


class BalanceOut(Schema):
    site: uuid.UUID
    lot: uuid.UUID
    batch_number: str
    expiry_date: datetime.date
    quantity: int


@gate.before_input(Perm.VIEW_STOCK, SITES, param="site", audit_action="pharmacy.view_balance")
@router.get("/sites/{site}/lots/{lot}", response={200: BalanceOut, **ERRORS})
def lot_balance(request, site: uuid.UUID, lot: uuid.UUID):
    """The quantity of one lot on hand at a site."""
    found = gate.input_row(request)
    batch = get_object_or_404(Lot, pk=lot)
    return {"site": found.pk, "lot": batch.pk, "batch_number": batch.batch_number, "expiry_date": batch.expiry_date,
            "quantity": selectors.lot_balance(found, batch)}


class MovementOut(Schema):
    id: uuid.UUID
    kind: str
    product: uuid.UUID = Field(alias="product_id")
    lot: uuid.UUID = Field(alias="lot_id")
    quantity: int
    balance_after: int
    occurred_at: datetime.datetime
    delivery: Optional[uuid.UUID] = Field(alias="delivery_id")
    transfer: Optional[uuid.UUID] = Field(alias="transfer_id")
    dispense: Optional[uuid.UUID] = Field(alias="dispense_id")
    counted_quantity: Optional[int]
    reason: str


@gate.before_input(Perm.VIEW_STOCK, SITES, param="site", audit_action="pharmacy.view_ledger")
@router.get("/sites/{site}/movements", response={200: list[MovementOut], **ERRORS})
@paginate(PageNumber)
def list_movements(request, site: uuid.UUID, product: Optional[uuid.UUID] = None):
    """The site's ledger, newest first (one product's when asked)."""
    found = gate.input_row(request)
    rows = StockMovement.objects.filter(site=found).order_by("-occurred_at", "-created_at")
    return rows.filter(product_id=product) if product else rows


class DeliveryLineIn(Schema):
    product: uuid.UUID
    batch_number: str = Field(max_length=40)
    expiry_date: datetime.date
    quantity: int = Field(ge=1, le=actions.MAX_QUANTITY)


class DeliveryIn(Schema):
    note_number: str = Field(max_length=40)
    supplier: str = Field(max_length=120)
    lines: list[DeliveryLineIn] = Field(max_length=200)


class DeliveryOut(Schema):
    id: uuid.UUID
    note_number: str
    supplier: str
    received_on: datetime.date


@gate.before_input(Perm.MANAGE_STOCK, SITES, param="site", audit_action="pharmacy.receive_delivery")
@router.post("/sites/{site}/deliveries", response={201: DeliveryOut, **ERRORS, **INPUT_ERRORS})
@idempotent
def receive_delivery(request, site: uuid.UUID, data: DeliveryIn):
    """Receive a delivery by its note's number (the same note twice at a site is refused: 400)."""
    found = gate.input_row(request)
    lines = [{"product": _product(line.product), "batch_number": line.batch_number,
              "expiry_date": line.expiry_date, "quantity": line.quantity} for line in data.lines]
    return 201, run_action(actions.do_receive_delivery, actor=request.user, site=found, note_number=data.note_number,
                           supplier=data.supplier, lines=lines)


class LotQuantityIn(Schema):
    lot: uuid.UUID
    quantity: int = Field(ge=1, le=actions.MAX_QUANTITY)


class TransferIn(Schema):
    to_site: uuid.UUID
    lines: list[LotQuantityIn] = Field(max_length=200)


class TransferOut(Schema):
    id: uuid.UUID
    from_site: uuid.UUID = Field(alias="from_site_id")
    to_site: uuid.UUID = Field(alias="to_site_id")
    status: str


@gate.before_input(Perm.MANAGE_STOCK, SITES, param="site", audit_action="pharmacy.ship_transfer")
@router.post("/sites/{site}/transfers", response={201: TransferOut, **ERRORS, **INPUT_ERRORS})
@idempotent
def ship_transfer(request, site: uuid.UUID, data: TransferIn):
    """Send lots to another site (out of this site's stock now, in transit until received)."""
    found = gate.input_row(request)
    to_site = StockSite.objects.filter(pk=data.to_site).first()
    if to_site is None:
        raise BadInput({"to_site": "No site with this identifier."})
    lines = [{"lot": _lot(line.lot, f"lines.{i}.lot"), "quantity": line.quantity} for i, line in enumerate(data.lines)]
    return 201, run_action(actions.do_ship_transfer, actor=request.user, from_site=found, to_site=to_site,
                           lines=lines)


@gate.before_input(Perm.MANAGE_STOCK, TRANSFERS, audit_action="pharmacy.receive_transfer")
@router.post("/transfers/{pk}/receive", response={200: TransferOut, **ERRORS, **INPUT_ERRORS})
def receive_transfer(request, pk: uuid.UUID):
    """Take a transfer in transit into the receiving site's stock."""
    return run_action(actions.do_receive_transfer, actor=request.user, transfer=gate.input_row(request))


class CountIn(Schema):
    counts: list[dict] = Field(max_length=500, description="[{lot, counted}] for each lot counted")
    reason: str = Field("", max_length=255)


@gate.before_input(Perm.MANAGE_STOCK, SITES, param="site", audit_action="pharmacy.count_stock")
@router.post("/sites/{site}/counts", response={201: list[MovementOut], **ERRORS, **INPUT_ERRORS})
def count_stock(request, site: uuid.UUID, data: CountIn):
    """A physical count: each variance becomes an adjustment line with its reason."""
    found = gate.input_row(request)
    counts = {}
    for index, entry in enumerate(data.counts):
        try:
            counts[_lot(uuid.UUID(str(entry.get("lot"))), f"counts.{index}.lot")] = entry.get("counted")
        except ValueError:
            raise BadInput({f"counts.{index}.lot": "A lot identifier is expected."})
    return 201, run_action(actions.do_count_stock, actor=request.user, site=found, counts=counts, reason=data.reason)


class MovementIn(Schema):
    lot: uuid.UUID
    kind: Literal["loss", "expiry", "return"]
    quantity: int = Field(ge=1, le=actions.MAX_QUANTITY)
    reason: str = Field("", max_length=255)


@gate.before_input(Perm.MANAGE_STOCK, SITES, param="site", audit_action="pharmacy.record_movement")
@router.post("/sites/{site}/movements", response={201: MovementOut, **ERRORS, **INPUT_ERRORS})
def record_movement(request, site: uuid.UUID, data: MovementIn):
    """A loss, an expiry write-off (of an expired lot) or a patient's return."""
    found = gate.input_row(request)
    return 201, run_action(actions.do_record_movement, actor=request.user, site=found, lot=_lot(data.lot),
                           kind=data.kind, quantity=data.quantity, reason=data.reason)


class DispenseIn(Schema):
    prescription: uuid.UUID = Field(description="The MedicationRequest dispensed against")
    product: uuid.UUID
    quantity: int = Field(ge=1, le=actions.MAX_QUANTITY)
    lot: Optional[uuid.UUID] = Field(None, description="A chosen lot; first expiry first out when absent")


class DispenseOut(Schema):
    """FHIR MedicationDispense, flattened."""

    id: uuid.UUID
    status: str
    patient: uuid.UUID = Field(alias="patient_id")
    encounter: uuid.UUID = Field(alias="encounter_id")
    authorizing_prescription: uuid.UUID = Field(alias="prescription_id")
    site: uuid.UUID = Field(alias="site_id")
    product: uuid.UUID = Field(alias="product_id")
    quantity: int
    prescribed_quantity: int
    owed: int
    coverage_type: str
    coverage_number: str
    coverage_state: str
    free_of_charge: bool
    when_handed_over: datetime.datetime = Field(alias="handed_over_at")
    lots: list[str]

    @staticmethod
    def resolve_lots(dispense):
        return [movement.lot.batch_number for movement in dispense.movements.all()]


@gate.before_input(Perm.DISPENSE, SITES, param="site", audit_action="pharmacy.dispense")
@router.post("/sites/{site}/dispenses", response={201: DispenseOut, **ERRORS, **INPUT_ERRORS})
@idempotent
def dispense(request, site: uuid.UUID, data: DispenseIn):
    """Dispense a prescription line from the site's stock: more than the usable stock, an expired lot or another
    site's prescription is refused (400) and changes nothing."""
    found = gate.input_row(request)
    prescription = gate.get(request.user, MedicationRequest.objects.select_related("encounter__patient"),
                            data.prescription, Perm.DISPENSE, audit_action="pharmacy.dispense")
    lot = _lot(data.lot) if data.lot else None
    done = run_action(actions.do_dispense, actor=request.user, prescription=prescription, site=found,
                      product=_product(data.product), quantity=data.quantity, lot=lot)
    return 201, MedicationDispense.objects.prefetch_related("movements__lot").get(pk=done.pk)


@gate.before_input(Perm.VIEW_STOCK, SITES, param="site", audit_action="pharmacy.list_dispenses")
@router.get("/sites/{site}/dispenses", response={200: list[DispenseOut], **ERRORS})
@paginate(PageNumber)
def list_dispenses(request, site: uuid.UUID, patient: Optional[uuid.UUID] = None):
    """What the site dispensed, newest first (one patient's when asked)."""
    found = gate.input_row(request)
    rows = MedicationDispense.objects.filter(site=found).prefetch_related("movements__lot").order_by("-handed_over_at")
    return rows.filter(patient_id=patient) if patient else rows


class AlertOut(Schema):
    site: uuid.UUID
    site_name: str
    kind: str
    product: uuid.UUID
    label: str
    usable: int


@gate.before_input(Perm.VIEW_STOCK, SITES, audit_action="pharmacy.view_alerts")
@router.get("/alerts", response={200: list[AlertOut], **ERRORS})
def list_alerts(request):
    """Stock-out, below-minimum, expired and expiring-within-90-days alerts of every site in the caller's scope."""
    sites = gate.restrict(request.user, SITES.filter(active=True, kind__in=reports.STOCK_KINDS), Perm.VIEW_STOCK,
                          target=("pharmacy.lotbalance", ""), audit_action="pharmacy.view_alerts")
    return [{"site": a.site.pk, "site_name": a.site.localized_name, "kind": a.kind, "product": a.stock.product.pk,
             "label": a.stock.product.label, "usable": a.stock.usable} for a in selectors.alerts(sites)]


class ReportQuery(Schema):
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    site: Optional[uuid.UUID] = None
    province: Optional[str] = Field(None, max_length=12)


class ProductLineOut(Schema):
    site: uuid.UUID
    site_name: str
    product: uuid.UUID
    product_code: str
    consumed: int
    expired: int
    lost: int
    stock_out_days: int


class CoverageLineOut(Schema):
    coverage_type: str
    patients: int
    free_of_charge: int


class ReportOut(Schema):
    month: str
    sites: int
    products: list[ProductLineOut]
    patients_by_coverage: list[CoverageLineOut]


@gate.before_input(Perm.VIEW_STOCK_REPORTS, SITES, audit_action="pharmacy.view_report")
@router.get("/reports", response={200: ReportOut, **ERRORS, **INPUT_ERRORS})
def monthly_report(request, query: Query[ReportQuery]):
    """A month's consumption per product, stock-out days, expiries and patients served by coverage scheme, for a
    site or a province of the caller's scope (all of it by default)."""
    sites = gate.restrict(request.user, SITES.filter(kind__in=reports.STOCK_KINDS), Perm.VIEW_STOCK_REPORTS,
                          target=("pharmacy.report", query.month), audit_action="pharmacy.view_report")
    try:
        return reports.month_report(sites, query.month, site=query.site, province=query.province)
    except ValidationError as error:
        raise BadInput({"month": " ".join(error.messages)})


class RequisitionLineIn(Schema):
    product: uuid.UUID
    quantity: int = Field(ge=1, le=actions.MAX_QUANTITY)


class RequisitionIn(Schema):
    lines: list[RequisitionLineIn] = Field(max_length=200)
    note: str = Field("", max_length=255)


class RequisitionLineOut(Schema):
    id: int
    product: uuid.UUID = Field(alias="product_id")
    quantity: int
    approved_quantity: Optional[int]


class RequisitionOut(Schema):
    id: uuid.UUID
    site: uuid.UUID = Field(alias="site_id")
    depot: uuid.UUID = Field(alias="depot_id")
    status: str = Field(description="requested, approved, shipped (in transit), received, rejected")
    lines: list[RequisitionLineOut]

    @staticmethod
    def resolve_lines(requisition):
        return list(requisition.lines.all())


@gate.before_input(Perm.MANAGE_STOCK, SITES, param="site", audit_action="pharmacy.request_stock")
@router.post("/sites/{site}/requisitions", response={201: RequisitionOut, **ERRORS, **INPUT_ERRORS})
@idempotent
def request_stock(request, site: uuid.UUID, data: RequisitionIn):
    """Order products from the site's provincial depot."""
    found = gate.input_row(request)
    lines = {_product(line.product): line.quantity for line in data.lines}
    return 201, run_action(actions.do_request_stock, actor=request.user, site=found, lines=lines, note=data.note)


@gate.before_input(Perm.VIEW_STOCK, SITES, param="site", audit_action="pharmacy.list_requisitions")
@router.get("/sites/{site}/requisitions", response={200: list[RequisitionOut], **ERRORS})
def list_requisitions(request, site: uuid.UUID):
    """The site's requisitions, and for a depot those it supplies, newest first."""
    found = gate.input_row(request)
    return Requisition.objects.filter(Q(site=found) | Q(depot=found)).prefetch_related("lines")[:200]


class ReviewIn(Schema):
    approve: bool
    quantities: dict[int, int] = Field(default_factory=dict, description="Approved quantity per line id")


REQUISITIONS = Requisition.objects.select_related("depot__commune")


# Asked before the body is read: a requisition beyond the caller's province is refused whatever was sent; the
# action asks for the depot (the requesting site's staff reach the requisition, not its depot).
@gate.before_input(Perm.APPROVE_REQUISITION, REQUISITIONS, param="pk", audit_action="pharmacy.review_requisition")
@router.post("/requisitions/{pk}/review", response={200: RequisitionOut, **ERRORS, **INPUT_ERRORS})
def review_requisition(request, pk: uuid.UUID, data: ReviewIn):
    """Approve (with the quantities the depot will send) or reject a requisition."""
    done = run_action(actions.do_review_requisition, actor=request.user, requisition=gate.input_row(request),
                      approve=data.approve, quantities=data.quantities)
    return Requisition.objects.prefetch_related("lines").get(pk=done.pk)
