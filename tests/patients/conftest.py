"""Fixtures for the patients tests: two sites, staff on each, and a way to register patients."""

from __future__ import annotations

import datetime
import itertools

import pytest

_names = itertools.count(1)


@pytest.fixture
def site(site_factory):
    return site_factory(name="Centre de santé Tiznit")


@pytest.fixture
def other_site(site_factory, commune_factory):
    return site_factory(name="Centre de santé Figuig",
                        commune=commune_factory(region_code="97", province_code="97.001"))


@pytest.fixture
def nurse(staff_factory, site):
    return staff_factory(role="nurse", site=site)


@pytest.fixture
def gp(staff_factory, site):
    return staff_factory(role="gp", site=site)


@pytest.fixture
def outsider(staff_factory, other_site):
    """A GP of another site: may do everything a GP may, but not on this site's patients."""
    return staff_factory(role="gp", site=other_site)


@pytest.fixture
def register(site, nurse):
    """Register a patient at ``site`` through the action, as the nurse."""
    from caravane.patients.actions import do_register_patient

    def make(*, at=None, by=None, **fields):
        data = {"gender": "male", **fields}
        if "given_name" not in data and "given_name_ar" not in data:
            data["given_name"] = f"Patient{next(_names)}"
        return do_register_patient(actor=(by or nurse).user, registration_site=at or site, data=data)

    return make


@pytest.fixture
def client_for(client):
    """A test client logged in as a staff member."""

    def login(staff):
        client.force_login(staff.user)
        return client

    return login


@pytest.fixture
def today():
    from django.utils import timezone

    return timezone.localdate()


@pytest.fixture
def yesterday(today):
    return today - datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in the source language (pages ask for it with Accept-Language)."""
    from django.utils import translation

    with translation.override("en"):
        yield
