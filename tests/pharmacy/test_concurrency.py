"""Dispensers racing for the last units of a lot: never a negative balance, never a lost movement."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from caravane.pharmacy import actions
from caravane.pharmacy.models import Lot, MedicationDispense, StockMovement
from caravane.pharmacy.selectors import lot_balance


@pytest.mark.django_db(transaction=True)
def test_eight_dispensers_for_five_units_five_succeed_and_the_balance_is_zero(network, products, prescription):
    unit = network["unit"]
    actions.do_receive_delivery(actor=network["unit_nurse"], site=unit, note_number="BL-RACE", supplier="Dépôt",
                                lines=[{"product": products["amoxicillin"], "batch_number": "LAST",
                                        "expiry_date": "01/01/2099", "quantity": 5}])
    start = threading.Barrier(8)
    outcomes = []

    def dispenser():
        try:
            start.wait(timeout=10)
            actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=unit,
                                product=products["amoxicillin"], quantity=1)
            outcomes.append("dispensed")
        except ValidationError as error:
            outcomes.append("refused" if list(error.message_dict) == ["quantity"] else repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=dispenser) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    lot = Lot.objects.get(batch_number="LAST")
    assert sorted(outcomes) == ["dispensed"] * 5 + ["refused"] * 3
    assert lot_balance(unit, lot) == 0
    assert StockMovement.objects.filter(site=unit, lot=lot).aggregate(n=Sum("quantity"))["n"] == 0
    assert MedicationDispense.objects.count() == 5
    assert sorted(StockMovement.objects.filter(lot=lot, kind="dispense").values_list("balance_after", flat=True)) \
        == [0, 1, 2, 3, 4]
