"""Fixtures for care tests: a health centre with its team, and patients."""

from __future__ import annotations

import datetime

import pytest


@pytest.fixture
def patient_factory(db):
    """Make a patient registered at a site."""
    from caravane.core.models import new_uuid7
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    def make(*, site, gender="female", birth_date=datetime.date(1980, 5, 1), given_name="Fatima",
             family_name="Amrani"):
        pk = new_uuid7()
        return Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name=given_name,
                                      family_name=family_name, gender=gender, birth_date=birth_date,
                                      registration_site=site)

    return make


@pytest.fixture
def team(site_factory, staff_factory):
    """A rural health centre with an assistant, a nurse and a GP assigned to it."""
    site = site_factory(name="CSR Test")
    return {
        "site": site,
        "assistant": staff_factory(role="assistant", site=site).user,
        "nurse": staff_factory(role="nurse", site=site).user,
        "gp": staff_factory(role="gp", site=site).user,
    }


@pytest.fixture
def visit_at_gp(team, patient_factory):
    """A visit that has been checked in and taken through the nurse to the GP."""
    from caravane.care import actions

    patient = patient_factory(site=team["site"])
    encounter = actions.do_check_in(actor=team["assistant"], patient=patient, site=team["site"])
    encounter = actions.do_advance(actor=team["nurse"], encounter=encounter, to="with_nurse")
    actions.do_record_vitals(actor=team["nurse"], encounter=encounter,
                             values={"systolic": "128", "diastolic": "82", "weight": "64", "height": "160"})
    return actions.do_advance(actor=team["nurse"], encounter=encounter, to="with_gp")


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in the source language, whatever catalogues are compiled."""
    from django.utils import translation

    with translation.override("en"):
        yield
