"""Shared fixtures: a tiny synthetic geography and factories for sites and staff.

Tests that need the real geography of Morocco use the ``morocco`` fixture, which loads
it once per test session into the test database.
"""

from __future__ import annotations

import datetime
import itertools

import pytest

_counter = itertools.count(1)


# Whether the real geography may be committed in the test database (see ``morocco``).
_geography = {"committed": False}


def _is_transactional(item) -> bool:
    from django.test import TestCase, TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return not issubclass(cls, TestCase)
    marker = item.get_closest_marker("django_db")
    by_marker = marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    return bool(by_marker) or "transactional_db" in item.fixturenames or "live_server" in item.fixturenames


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Keep tests that use the real geography from showing it to those that don't.

    pytest-django runs plain ``db`` tests, then transactional ones. Within the first group the
    ``morocco`` tests go last, so the tests before them find the geography tables empty; within the
    second they go first, and their flush (or ``_no_real_geography``) empties the tables again.
    """
    from django.test import TransactionTestCase

    def key(indexed):
        index, item = indexed
        transactional = _is_transactional(item)
        uses_db = "db" in item.fixturenames or item.get_closest_marker("django_db") or \
            issubclass(getattr(item, "cls", None) or object, TransactionTestCase)
        if not (transactional or uses_db):
            return (2, False, index)
        return (int(transactional), ("morocco" in item.fixturenames) != transactional, index)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]


@pytest.fixture(scope="session", autouse=True)
def _cheap_passwords():
    """Passwords are hashed with a cheap Argon2 (tests/hashers.py) for the whole session; the deployment's
    hashers are checked by tests/accounts/test_login.py, which asks for them back."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["tests.hashers.CheapArgon2PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _static_from_the_sources(settings, tmp_path_factory):
    """Pages link the static files of this checkout, never those a demo collected into var/static or, during
    the run, into a folder of an earlier test (tests/core/test_staticfiles.py collects its own)."""
    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")


@pytest.fixture(autouse=True)
def _no_real_geography(request):
    """A transactional test that doesn't ask for ``morocco`` starts without it."""
    if not _geography["committed"] or "morocco" in request.fixturenames or not _is_transactional(request.node):
        return
    from caravane.geo.models import Commune, Province, Region

    request.getfixturevalue("transactional_db")
    for model in (Commune, Province, Region):
        model.objects.all().delete()
    _geography["committed"] = False


def _load_geography() -> None:
    import io

    from django.core.management import call_command

    call_command("load_geography", stdout=io.StringIO())


@pytest.fixture(scope="session")
def _morocco_session(django_db_setup, django_db_blocker):
    """Load the real geography once per session into the test database, outside any test transaction."""
    with django_db_blocker.unblock():
        _load_geography()
    _geography["committed"] = True


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """A transaction around a test module, rolled back at its end, for data that a module-scoped fixture builds
    once and the module's plain ``db`` tests share (each adds its own savepoint, as in a TestCase). Yields the
    blocker: build under ``module_db.unblock()``. Every test of such a module sees that data."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic._from_testcase = True  # the actions' durable blocks nest in it as they do in a TestCase's
        atomic.__enter__()
    try:
        yield django_db_blocker
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def module_morocco(_morocco_session, module_db):
    """The real geography for a module-scoped fixture (``morocco`` comes per test, after those are built)."""
    from caravane.geo.models import Commune

    with module_db.unblock():
        if not Commune.objects.filter(geometry_source="arrondissements").exists():
            _load_geography()  # rolled back with the module's transaction


@pytest.fixture
def morocco(_morocco_session, db, request):
    """The real geography of Morocco (12 regions, 83 provinces, 1,503 communes) in the test database.

    Loaded once per session (a few seconds) and kept across ordinary ``db`` tests, whose
    transactions roll back. Works in transactional tests too (``transactional_db``, ``live_server``,
    ``django_db(transaction=True)``): each one flushes every table when it ends, so the next test
    asking for ``morocco`` finds it gone and loads it again. Tests that don't ask for it never see
    it: see ``pytest_collection_modifyitems`` and ``_no_real_geography``.
    """
    from caravane.geo.models import Commune

    if not Commune.objects.filter(geometry_source="arrondissements").exists():
        _load_geography()
        # Inside a plain db test the reload rolls back with the test; a transactional one commits it.
        _geography["committed"] = _geography["committed"] or _is_transactional(request.node)


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
        # Dotted like HCP's codes and within their 14 characters, however many communes a session makes.
        code = code or f"{province_code}.{n // 100 % 100:02d}.{n % 100:02d}"
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
