"""Dispensing against a prescription: the course proposed from the dose, first-expiry lot, expired lots and
other sites refused, partial dispensing with what is owed, coverage recorded, the chart shows it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from caravane.audit.models import AuditEvent
from caravane.pharmacy import actions, dosing
from caravane.pharmacy.models import Lot, MedicationDispense, StockMovement
from caravane.pharmacy.selectors import chart_entries, lines_to_dispense, lot_balance
from tests.pharmacy.conftest import in_days

pytestmark = pytest.mark.django_db


def test_the_course_is_proposed_from_dose_frequency_and_duration(prescription, products):
    assert dosing.proposed_quantity(prescription, products["amoxicillin"]) == 21
    prescription.timing = "prn"
    assert dosing.proposed_quantity(prescription, products["amoxicillin"]) is None
    prescription.timing, prescription.dose_unit = "2/d", "spoon"  # 5 mL spoonfuls from 100 mL bottles
    products["amoxicillin"].unit, products["amoxicillin"].dose_unit = "bottle", "mL"
    products["amoxicillin"].dose_per_unit = 100
    assert dosing.proposed_quantity(prescription, products["amoxicillin"]) == 1  # 2 × 7 × 5 mL = 70 mL


def test_the_page_proposes_the_matching_product_the_course_and_the_first_expiry_lot(network, stocked_unit,
                                                                                    prescription):
    [line] = lines_to_dispense(stocked_unit, [prescription])
    assert line.product.code == "amox-500" and line.proposed == 21 and line.suggested == 21
    assert line.fefo_lot.batch_number == "AMX-SOON"


def test_a_ramed_patient_is_served_free_first_expiry_first_with_the_card_recorded(network, stocked_unit,
                                                                                  prescription, products):
    dispense = actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                                   product=products["amoxicillin"], quantity=21)
    assert dispense.free_of_charge and dispense.coverage_type == "ramed"
    assert dispense.coverage_number == "RAMED-0042" and dispense.owed == 0 and dispense.prescribed_quantity == 21
    taken = {m.lot.batch_number: m.quantity for m in StockMovement.objects.filter(dispense=dispense)}
    assert taken == {"AMX-SOON": -10, "AMX-LATE": -11}  # the lot expiring first is emptied first
    assert lot_balance(stocked_unit, Lot.objects.get(batch_number="AMX-LATE")) == 19
    assert AuditEvent.objects.filter(action="pharmacy.dispense").count() == 1
    assert [item for _when, item in chart_entries(prescription.patient)] == [dispense]


def test_partial_dispensing_records_what_is_still_owed(network, stocked_unit, prescription, products):
    first = actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                                product=products["amoxicillin"], quantity=15)
    assert first.owed == 6
    second = actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                                 product=products["amoxicillin"], quantity=6)
    assert second.owed == 0


def _nothing_changed(site, before):
    assert StockMovement.objects.filter(site=site).count() == before
    assert not MedicationDispense.objects.exists()


def test_more_than_on_hand_is_refused_and_changes_nothing(network, stocked_unit, prescription, products):
    before = StockMovement.objects.filter(site=stocked_unit).count()
    with pytest.raises(ValidationError, match="Only 40 capsule of"):
        actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                            product=products["amoxicillin"], quantity=41)
    _nothing_changed(stocked_unit, before)


def test_an_expired_lot_is_refused_and_not_counted_as_usable(network, stocked_unit, prescription, products):
    Lot.objects.filter(batch_number="AMX-SOON").update(expiry_date=in_days(-1))
    before = StockMovement.objects.filter(site=stocked_unit).count()
    with pytest.raises(ValidationError, match="expired"):
        actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                            product=products["amoxicillin"], quantity=1, lot=Lot.objects.get(batch_number="AMX-SOON"))
    with pytest.raises(ValidationError, match="Only 30"):
        actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                            product=products["amoxicillin"], quantity=31)
    _nothing_changed(stocked_unit, before)


def test_another_sites_patient_is_refused(network, stocked_unit, prescription, products):
    before = StockMovement.objects.filter(site=stocked_unit).count()
    with pytest.raises(PermissionDenied):  # a nurse of another province, at a site not hers
        actions.do_dispense(actor=network["other_nurse"], prescription=prescription, site=stocked_unit,
                            product=products["amoxicillin"], quantity=1)
    with pytest.raises(ValidationError, match="another site"):  # the depot may reach the unit's visit, not serve it
        actions.do_dispense(actor=network["depot_pharmacist"], prescription=prescription, site=network["depot"],
                            product=products["amoxicillin"], quantity=1)
    _nothing_changed(stocked_unit, before)


def test_a_lapsed_coverage_is_not_free(network, stocked_unit, prescription, products, ramed_patient):
    ramed_patient.coverage_valid_until = in_days(-3)
    ramed_patient.save()
    dispense = actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                                   product=products["amoxicillin"], quantity=21)
    assert not dispense.free_of_charge and dispense.coverage_state == "lapsed"
