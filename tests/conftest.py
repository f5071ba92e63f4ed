"""Shared fixtures: a tiny synthetic geography and factories for sites and staff.

Tests that need the real geography of Morocco use the ``morocco`` fixture, which loads
it once per test session into the test database.
"""

from __future__ import annotations

import datetime
import itertools

import pytest

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def _morocco_session(django_db_setup, django_db_blocker):
    """Load the real geography once per session into the test database, outside any test transaction."""
    import io

    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("load_geography", stdout=io.StringIO())


@pytest.fixture
def morocco(_morocco_session, db):
    """The real geography of Morocco (12 regions, 83 provinces, 1,503 communes) in the test database.

    Loaded once per session and kept across ordinary (``db``) tests, whose transactions roll back.
    A transactional test (``transactional_db``, ``live_server``) flushes every table when it ends,
    so the next test asking for ``morocco`` finds it gone and loads it again (a few seconds).
    """
    import io

    from django.core.management import call_command

    from caravane.geo.models import Commune

    if not Commune.objects.filter(geometry_source="arrondissements").exists():
        call_command("load_geography", stdout=io.StringIO())


@pytest.fixture
def commune_factory(db):
    """Make a commune (with its province and region) in a small synthetic geography."""
    from caravane.geo.models import Commune, Province, Region

    def make(*, region_code="98", province_code="98.001", code=None, name="Test commune", kind="rural",
             population=1000, lat=31.5, lon=-7.5):
        region, _ = Region.objects.get_or_create(code=region_code, defaults={
            "name_fr": f"Région {region_code}", "name_ar": "جهة", "population_2024": 0})
        province, _ = Province.objects.get_or_create(code=province_code, defaults={
            "name_fr": f"Province {province_code}", "name_ar": "إقليم", "kind": "province",
            "region": region, "population_2024": 0})
        n = next(_counter)
        code = code or f"{province_code}.01.{n:02d}"
        half = 0.05
        return Commune.objects.create(
            code=code, code_digits=f"{n:09d}", name_fr=name, name_ar="جماعة", kind=kind, province=province,
            region=region, population_2024=population, centroid_lat=lat, centroid_lon=lon,
            geometry={"type": "Polygon", "coordinates": [[[lon - half, lat - half], [lon + half, lat - half],
                                                          [lon + half, lat + half], [lon - half, lat + half],
                                                          [lon - half, lat - half]]]},
            geometry_source="code",
        )

    return make


@pytest.fixture
def site_factory(commune_factory):
    """Make a site of a kind, in a commune (a new synthetic one by default)."""
    from caravane.network.models import Site

    def make(*, kind=Site.Kind.RURAL_HEALTH_CENTRE, name=None, commune=None, parent=None, specialties=()):
        commune = commune or commune_factory()
        n = next(_counter)
        site = Site.objects.create(code=f"site-{n}", name=name or f"Site {n}", kind=kind, commune=commune,
                                   latitude=commune.centroid_lat, longitude=commune.centroid_lon, parent=parent)
        if specialties:
            site.specialties.set(specialties)
        return site

    return make


@pytest.fixture
def staff_factory(db):
    """Make a staff member with a login, assigned to a site from today."""
    from caravane.accounts.models import User
    from caravane.network.models import Assignment, Specialty, StaffMember

    def make(*, role, site=None, username=None, specialty=None, password="caravane-test-pass", **extra):
        n = next(_counter)
        user = User.objects.create_user(username=username or f"user{n}", password=password)
        if role == "specialist" and specialty is None:
            specialty, _ = Specialty.objects.get_or_create(
                code="cardiology", defaults={"name_fr": "Cardiologie", "name_ar": "أمراض القلب", "name_en": "Cardiology"})
        staff = StaffMember.objects.create(
            user=user, first_name=f"Prénom{n}", last_name=f"Nom{n}", role=role, specialty=specialty,
            registration_number=f"REG{n:05d}" if role in ("gp", "specialist") else "", **extra)
        if site is not None:
            Assignment.objects.create(staff=staff, site=site, start_date=datetime.date.today() - datetime.timedelta(days=30))
        return staff

    return make
