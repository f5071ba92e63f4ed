"""Fixtures for the web pages: two provinces, a small referral network and people in it."""

import datetime

import pytest
from django.conf import settings
from django.test import override_settings

PASSWORD = "caravane-test-pass"


@pytest.fixture
def network(commune_factory, site_factory):
    """Imilchil (Midelt) and Talsint (Figuig) health centres under a regional centre, and a mobile unit."""
    from caravane.network.models import Deployment, DeviceKind, Site, Specialty

    imilchil_commune = commune_factory(region_code="08", province_code="08.381", name="Imilchil", lat=32.15, lon=-5.63)
    talsint_commune = commune_factory(region_code="02", province_code="02.191", name="Talsint", lat=32.54, lon=-3.44)
    errachidia = commune_factory(region_code="08", province_code="08.381", name="Errachidia", lat=31.93, lon=-4.42)
    cardiology, _ = Specialty.objects.get_or_create(
        code="cardiology", defaults={"name_fr": "Cardiologie", "name_ar": "أمراض القلب", "name_en": "Cardiology"})
    ecg, _ = DeviceKind.objects.get_or_create(
        code="ecg", defaults={"name_fr": "Électrocardiographe", "name_ar": "جهاز تخطيط القلب", "name_en": "ECG"})
    regional = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="CRT Drâa-Tafilalet", commune=errachidia,
                            specialties=[cardiology])
    imilchil = site_factory(name="CSR Imilchil", commune=imilchil_commune, parent=regional)
    imilchil.equipment.set([ecg])
    talsint = site_factory(name="CSR Talsint", commune=talsint_commune, parent=regional)
    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, name="UMM Midelt 1", commune=imilchil_commune, parent=regional)
    Deployment.objects.create(unit=unit, province=imilchil_commune.province, base_commune=imilchil_commune,
                              start_date=datetime.date.today() - datetime.timedelta(days=10))
    return {"regional": regional, "imilchil": imilchil, "talsint": talsint, "unit": unit,
            "cardiology": cardiology, "ecg": ecg}


@pytest.fixture
def nurse(network, staff_factory):
    """A nurse assigned to Imilchil."""
    return staff_factory(role="nurse", site=network["imilchil"], username="nurse.imilchil")


@pytest.fixture
def nurse_client(client, nurse):
    """A test client logged in as the Imilchil nurse."""
    assert client.login(username="nurse.imilchil", password=PASSWORD)
    return client


@pytest.fixture(scope="module")
def world(module_db, tmp_path_factory):
    """The two sides of ``access_world``, built once for the module (``module_db``)."""
    from .access_world import build_world

    storage = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                "OPTIONS": {"location": tmp_path_factory.mktemp("media")}}}
    with module_db.unblock(), override_settings(STORAGES=storage):
        built = build_world()
        built.their_commune = built.theirs.commune
        built.their_record_number = built.their_patient.record_number
        yield built
