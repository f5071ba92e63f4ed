"""Fixtures for the network tests: a small referral pyramid and actors of several reaches."""

from __future__ import annotations

import pytest


@pytest.fixture
def pyramid(site_factory, commune_factory):
    """National centre, central platform, two regional centres (regions 97 and 98) and a spoke in each region."""
    from caravane.network.models import Site

    north = commune_factory(region_code="97", province_code="97.001", name="Nord")
    south = commune_factory(region_code="98", province_code="98.001", name="Sud")
    national = site_factory(kind=Site.Kind.NATIONAL_CENTRE, name="National", commune=north)
    central = site_factory(kind=Site.Kind.CENTRAL_PLATFORM, name="Central", commune=north)
    regional_north = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="Regional north", commune=north,
                                  parent=national)
    regional_south = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="Regional south", commune=south,
                                  parent=national)
    spoke_north = site_factory(name="Spoke north", commune=north, parent=regional_north)
    spoke_south = site_factory(name="Spoke south", commune=south, parent=regional_south)
    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, name="Unit south", commune=south, parent=regional_south)
    return {"national": national, "central": central, "regional_north": regional_north,
            "regional_south": regional_south, "spoke_north": spoke_north, "spoke_south": spoke_south,
            "unit": unit, "north": north, "south": south}


@pytest.fixture
def national_coordinator(staff_factory):
    """A coordinator without coverage: national scope."""
    return staff_factory(role="coordinator").user


@pytest.fixture
def south_coordinator(staff_factory, pyramid):
    """A coordinator covering region 98 only."""
    return staff_factory(role="coordinator", coverage_region=pyramid["south"].region).user


@pytest.fixture
def nurse(staff_factory, pyramid):
    """A nurse at the southern spoke: may view, not change, the network."""
    return staff_factory(role="nurse", site=pyramid["spoke_south"]).user


@pytest.fixture
def today():
    from django.utils import timezone

    return timezone.localdate()


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in their English source form."""
    from django.utils import translation

    with translation.override("en"):
        yield
