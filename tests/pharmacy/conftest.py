"""Fixtures for pharmacy tests: a province with a depot, a centre and its mobile unit, their staff, a small
catalogue, and a RAMED patient with a prescription at the unit."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tests.care.conftest import english, patient_factory  # noqa: F401  (fixtures shared with care's tests)


@pytest.fixture
def products(db):
    """Amoxicillin 500 mg capsules and paracetamol 500 mg tablets, stocked at every level."""
    from caravane.pharmacy.models import Medicine, Product, StockedProduct

    def make(code, inn, fr, ar, strength, unit, atc):
        medicine = Medicine.objects.create(code=f"test-{code}", inn=inn, name_fr=fr, name_ar=ar, atc_code=atc,
                                           source="who")
        product = Product.objects.create(code=code, medicine=medicine, form=unit, strength=strength, unit=unit,
                                         dose_unit=unit, dose_per_unit=Decimal(1), atc_code=atc)
        for level in StockedProduct.Level.values:
            StockedProduct.objects.create(product=product, level=level, min_months=1, max_months=3)
        return product

    return {"amoxicillin": make("amox-500", "amoxicillin", "amoxicilline", "أموكسيسيلين", "500 mg", "capsule",
                                "J01CA04"),
            "paracetamol": make("para-500", "paracetamol", "paracétamol", "باراسيتامول", "500 mg", "tablet",
                                "N02BE01")}


@pytest.fixture
def network(site_factory, staff_factory, commune_factory):
    """A province's depot, a rural centre and a mobile unit, and another province's centre; their staff."""
    from caravane.network.models import Site

    here = commune_factory(province_code="98.001")
    elsewhere = commune_factory(province_code="98.002")
    depot = site_factory(kind=Site.Kind.PROVINCIAL_DEPOT, name="Dépôt provincial", commune=here)
    centre = site_factory(name="CSR Imilchil", commune=here)
    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, name="UMM 01", commune=here, parent=centre)
    other = site_factory(name="CSR Ailleurs", commune=elsewhere)
    return {
        "depot": depot, "centre": centre, "unit": unit, "other": other,
        "depot_pharmacist": staff_factory(role="pharmacist", site=depot).user,
        "pharmacist": staff_factory(role="pharmacist", site=centre).user,
        "unit_nurse": staff_factory(role="nurse", site=unit).user,
        "unit_gp": staff_factory(role="gp", site=unit).user,
        "other_nurse": staff_factory(role="nurse", site=other).user,
        "coordinator": staff_factory(role="coordinator", coverage_province=here.province).user,
    }


def in_days(days: int) -> datetime.date:
    return datetime.date.today() + datetime.timedelta(days=days)


@pytest.fixture
def ramed_patient(network, patient_factory):
    patient = patient_factory(site=network["unit"])
    patient.coverage_type, patient.coverage_number = "ramed", "RAMED-0042"
    patient.coverage_valid_from, patient.coverage_valid_until = in_days(-200), in_days(200)
    patient.save()
    return patient


@pytest.fixture
def prescription(network, ramed_patient):
    """Amoxicillin 500 mg, 1 capsule 3 times a day for 7 days (21 capsules), written at the unit."""
    from caravane.care import actions

    encounter = actions.do_check_in(actor=network["unit_nurse"], patient=ramed_patient, site=network["unit"])
    encounter = actions.do_advance(actor=network["unit_nurse"], encounter=encounter, to="with_nurse")
    encounter = actions.do_advance(actor=network["unit_nurse"], encounter=encounter, to="with_gp")
    return actions.do_prescribe(actor=network["unit_gp"], encounter=encounter, medication="Amoxicilline 500 mg",
                                dose_value="1", dose_unit="capsule", route="oral", timing="3/d", duration_days=7)


@pytest.fixture
def stocked_unit(network, products):
    """The unit holding two lots of amoxicillin (the later one received first) and one of paracetamol."""
    from caravane.pharmacy import actions

    actions.do_receive_delivery(actor=network["unit_nurse"], site=network["unit"], note_number="BL-1",
                                supplier="Dépôt", lines=[
                                    {"product": products["amoxicillin"], "batch_number": "AMX-LATE",
                                     "expiry_date": in_days(400), "quantity": 30},
                                    {"product": products["amoxicillin"], "batch_number": "AMX-SOON",
                                     "expiry_date": in_days(60), "quantity": 10},
                                    {"product": products["paracetamol"], "batch_number": "PAR-1",
                                     "expiry_date": in_days(300), "quantity": 100}])
    return network["unit"]
