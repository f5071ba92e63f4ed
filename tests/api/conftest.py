"""Fixtures for the API tests: two sites in two provinces, people at each, and bearer tokens."""

from __future__ import annotations

import pytest


@pytest.fixture
def network(commune_factory, site_factory, staff_factory):
    """Site A in province 98.001 and site B in province 98.002, with a nurse and a GP at each."""
    from caravane.network.models import Site

    class Network:
        commune_a = commune_factory(province_code="98.001", name="Aït Alpha", population=4200, kind="rural")
        commune_b = commune_factory(province_code="98.002", name="Beni Beta", population=9100, kind="urban")
        hub = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="Regional hub", commune=commune_a)
        site_a = site_factory(name="Centre Alpha", commune=commune_a, parent=hub)
        site_b = site_factory(name="Centre Beta", commune=commune_b, parent=hub)
        nurse_a = staff_factory(role="nurse", site=site_a, username="nurse_a")
        gp_a = staff_factory(role="gp", site=site_a, username="gp_a")
        nurse_b = staff_factory(role="nurse", site=site_b, username="nurse_b")
        gp_b = staff_factory(role="gp", site=site_b, username="gp_b")

    return Network


@pytest.fixture
def bearer():
    """Make a token for a user; returns the ``headers`` argument for the test client."""
    from caravane.accounts.actions import do_create_api_token

    def make(user, **kwargs):
        _token, raw = do_create_api_token(user=user, name=kwargs.pop("name", "test client"), **kwargs)
        return {"Authorization": f"Bearer {raw}"}

    return make
