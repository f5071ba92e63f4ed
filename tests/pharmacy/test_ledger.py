"""The stock ledger: receipts by delivery note, transfers, counts, write-offs; balances that are the ledger's sum
and never go negative."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from caravane.audit.models import AuditEvent
from caravane.pharmacy import actions
from caravane.pharmacy.models import Delivery, LotBalance, Lot, StockMovement
from caravane.pharmacy.selectors import lot_balance, site_stock
from tests.pharmacy.conftest import in_days

pytestmark = pytest.mark.django_db


def _ledger_sum(site, lot) -> int:
    return StockMovement.objects.filter(site=site, lot=lot).aggregate(n=Sum("quantity"))["n"] or 0


def test_a_delivery_adds_its_lots_to_the_ledger_and_the_balances(network, stocked_unit):
    soon = Lot.objects.get(batch_number="AMX-SOON")
    assert lot_balance(stocked_unit, soon) == 10 == _ledger_sum(stocked_unit, soon)
    receipt = StockMovement.objects.get(site=stocked_unit, lot=soon)
    assert receipt.kind == "receipt" and receipt.balance_after == 10 and receipt.delivery.note_number == "BL-1"
    assert AuditEvent.objects.filter(action="pharmacy.receive_delivery").count() == 1


def test_the_same_delivery_note_twice_is_refused_and_changes_nothing(network, products, stocked_unit):
    before = StockMovement.objects.count()
    with pytest.raises(ValidationError, match="already received"):
        actions.do_receive_delivery(actor=network["unit_nurse"], site=stocked_unit, note_number=" bl-1 ",
                                    supplier="Dépôt", lines=[{"product": products["paracetamol"],
                                                              "batch_number": "PAR-2", "expiry_date": in_days(90),
                                                              "quantity": 5}])
    assert StockMovement.objects.count() == before and Delivery.objects.count() == 1
    assert not Lot.objects.filter(batch_number="PAR-2").exists()


@pytest.mark.parametrize("line, message", [
    ({"batch_number": "X1", "expiry_date": in_days(-1), "quantity": 5}, "already expired"),
    ({"batch_number": "", "expiry_date": in_days(30), "quantity": 5}, "batch number"),
    ({"batch_number": "X1", "expiry_date": "31/02/2027", "quantity": 5}, "expiry date"),
    ({"batch_number": "X1", "expiry_date": in_days(30), "quantity": "-3"}, "between 1"),
    ({"batch_number": "X1", "expiry_date": in_days(30), "quantity": "beaucoup"}, "whole number"),
])
def test_bad_delivery_lines_are_refused_with_a_message(network, products, line, message):
    with pytest.raises(ValidationError, match=message):
        actions.do_receive_delivery(actor=network["pharmacist"], site=network["centre"], note_number="BL-9",
                                    supplier="PPN", lines=[{"product": products["paracetamol"], **line}])
    assert not StockMovement.objects.exists() and not Delivery.objects.exists()


def test_a_transfer_leaves_the_sender_when_shipped_and_reaches_the_unit_when_received(network, products):
    centre, unit = network["centre"], network["unit"]
    actions.do_receive_delivery(actor=network["pharmacist"], site=centre, note_number="BL-77", supplier="Dépôt",
                                lines=[{"product": products["paracetamol"], "batch_number": "P7",
                                        "expiry_date": in_days(200), "quantity": 50}])
    lot = Lot.objects.get(batch_number="P7")
    transfer = actions.do_ship_transfer(actor=network["pharmacist"], from_site=centre, to_site=unit,
                                        lines=[{"lot": lot, "quantity": 20}])
    assert lot_balance(centre, lot) == 30 and lot_balance(unit, lot) == 0  # in transit
    actions.do_receive_transfer(actor=network["unit_nurse"], transfer=transfer)
    assert lot_balance(unit, lot) == 20 == _ledger_sum(unit, lot)
    with pytest.raises(ValidationError, match="already received"):
        actions.do_receive_transfer(actor=network["unit_nurse"], transfer=transfer)
    assert lot_balance(unit, lot) == 20
    with pytest.raises(ValidationError, match="Only 30"):
        actions.do_ship_transfer(actor=network["pharmacist"], from_site=centre, to_site=unit,
                                 lines=[{"lot": lot, "quantity": 31}])
    assert lot_balance(centre, lot) == 30


def test_a_count_records_its_variance_with_a_reason(network, stocked_unit):
    soon = Lot.objects.get(batch_number="AMX-SOON")
    with pytest.raises(ValidationError, match="say why"):
        actions.do_count_stock(actor=network["unit_nurse"], site=stocked_unit, counts={soon: 8})
    [adjustment] = actions.do_count_stock(actor=network["unit_nurse"], site=stocked_unit, counts={soon: "8"},
                                          reason="two capsules crushed")
    assert (adjustment.kind, adjustment.quantity, adjustment.counted_quantity) == ("adjustment", -2, 8)
    assert lot_balance(stocked_unit, soon) == 8 == _ledger_sum(stocked_unit, soon)
    assert actions.do_count_stock(actor=network["unit_nurse"], site=stocked_unit, counts={soon: 8}) == []
    with pytest.raises(ValidationError, match="negative"):
        actions.do_count_stock(actor=network["unit_nurse"], site=stocked_unit, counts={soon: -1}, reason="x")


def test_losses_returns_and_expiry_write_offs(network, stocked_unit):
    late = Lot.objects.get(batch_number="AMX-LATE")
    with pytest.raises(ValidationError, match="has not expired"):
        actions.do_record_movement(actor=network["unit_nurse"], site=stocked_unit, lot=late, kind="expiry", quantity=1)
    with pytest.raises(ValidationError, match="Reason"):
        actions.do_record_movement(actor=network["unit_nurse"], site=stocked_unit, lot=late, kind="loss", quantity=1)
    actions.do_record_movement(actor=network["unit_nurse"], site=stocked_unit, lot=late, kind="loss", quantity=3,
                               reason="flacon cassé")
    actions.do_record_movement(actor=network["unit_nurse"], site=stocked_unit, lot=late, kind="return", quantity=1,
                               reason="retour patient")
    with pytest.raises(ValidationError, match="Only 28"):
        actions.do_record_movement(actor=network["unit_nurse"], site=stocked_unit, lot=late, kind="loss",
                                   quantity=29, reason="x")
    assert lot_balance(stocked_unit, late) == 28 == _ledger_sum(stocked_unit, late)


def test_ledger_rows_and_negative_balances_cannot_be_written_around_the_actions(stocked_unit):
    from caravane.core.models import ImmutableRecordError
    from django.db import IntegrityError, transaction

    movement = StockMovement.objects.filter(site=stocked_unit).first()
    with pytest.raises(ImmutableRecordError):
        movement.save()
    with pytest.raises(ImmutableRecordError):
        movement.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        LotBalance.objects.filter(site=stocked_unit).update(quantity=-1)


def test_stock_is_scoped_to_the_site_the_depot_reaches_its_province(network, stocked_unit, products):
    with pytest.raises(PermissionDenied):
        actions.do_receive_delivery(actor=network["other_nurse"], site=stocked_unit, note_number="BL-X",
                                    supplier="x", lines=[])
    assert actions.in_stock_scope(network["depot_pharmacist"], stocked_unit)
    assert not actions.in_stock_scope(network["depot_pharmacist"], network["other"])
    assert actions.in_stock_scope(network["coordinator"], stocked_unit)
    assert not actions.in_stock_scope(network["unit_nurse"], network["centre"])


def test_site_stock_shows_lots_first_expiry_first_with_alerts(network, stocked_unit, products):
    stock = {row.product.code: row for row in site_stock(stocked_unit)}
    amox = stock["amox-500"]
    assert amox.on_hand == 40 and [b.lot.batch_number for b in amox.lots] == ["AMX-SOON", "AMX-LATE"]
    assert [b.lot.batch_number for b in amox.expiring] == ["AMX-SOON"]  # within 90 days


def test_requisition_from_a_unit_to_its_depot_approved_shipped_received(network, products):
    depot, unit = network["depot"], network["unit"]
    actions.do_receive_delivery(actor=network["depot_pharmacist"], site=depot, note_number="PPN-1", supplier="PPN",
                                lines=[{"product": products["amoxicillin"], "batch_number": "D1",
                                        "expiry_date": in_days(500), "quantity": 1000}])
    requisition = actions.do_request_stock(actor=network["unit_nurse"], site=unit, lines={products["amoxicillin"]: 90})
    assert requisition.depot == depot and requisition.status == "requested"
    with pytest.raises(PermissionDenied):
        actions.do_review_requisition(actor=network["unit_nurse"], requisition=requisition, approve=True)
    requisition = actions.do_review_requisition(actor=network["depot_pharmacist"], requisition=requisition,
                                                approve=True)
    transfer = actions.do_ship_transfer(actor=network["depot_pharmacist"], from_site=depot, to_site=unit,
                                        lines=[{"lot": Lot.objects.get(batch_number="D1"), "quantity": 90}],
                                        requisition=requisition)
    requisition.refresh_from_db()
    assert requisition.status == "shipped"
    actions.do_receive_transfer(actor=network["unit_nurse"], transfer=transfer)
    requisition.refresh_from_db()
    assert requisition.status == "received"
