"""Fixtures for telemedicine tests: a small referral network, its people, and a visit with consent."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in the source language, whatever catalogues are compiled."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def specialties(db):
    """A few specialties, by code."""
    from caravane.network.models import Specialty

    codes = ["cardiology", "dermatology", "nephrology", "paediatrics", "endocrinology"]
    return {code: Specialty.objects.get_or_create(code=code, defaults={
        "name_fr": code.title(), "name_ar": code, "name_en": code.title()})[0] for code in codes}


@pytest.fixture
def network(site_factory, commune_factory, specialties):
    """spoke -> regional centre (cardiology, paediatrics) -> national centre (all); a central platform
    (cardiology, dermatology, endocrinology) and a second regional centre in another region."""
    from caravane.network.models import Site

    national = site_factory(kind=Site.Kind.NATIONAL_CENTRE, name="National centre",
                            commune=commune_factory(region_code="96", province_code="96.001"),
                            specialties=list(specialties.values()))
    central = site_factory(kind=Site.Kind.CENTRAL_PLATFORM, name="Central platform",
                           commune=commune_factory(region_code="95", province_code="95.001"),
                           specialties=[specialties[c] for c in ("cardiology", "dermatology", "endocrinology")])
    regional = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="Regional centre", parent=national,
                            specialties=[specialties["cardiology"], specialties["paediatrics"]])
    other_regional = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="Other regional centre", parent=national,
                                  commune=commune_factory(region_code="94", province_code="94.001"),
                                  specialties=[specialties["cardiology"], specialties["dermatology"]])
    spoke = site_factory(name="CSR Spoke", parent=regional)
    other_spoke = site_factory(name="CSR Elsewhere", parent=other_regional,
                               commune=commune_factory(region_code="94", province_code="94.001"))
    return SimpleNamespace(national=national, central=central, regional=regional, other_regional=other_regional,
                           spoke=spoke, other_spoke=other_spoke)


@pytest.fixture
def people(network, staff_factory, specialties):
    """The staff of the network: the spoke's team, specialists at the hubs, a regional coordinator."""
    return SimpleNamespace(
        nurse=staff_factory(role="nurse", site=network.spoke).user,
        gp=staff_factory(role="gp", site=network.spoke).user,
        other_gp=staff_factory(role="gp", site=network.other_spoke).user,
        cardiologist=staff_factory(role="specialist", site=network.regional, specialty=specialties["cardiology"]).user,
        other_cardiologist=staff_factory(role="specialist", site=network.other_regional,
                                         specialty=specialties["cardiology"]).user,
        paediatrician=staff_factory(role="specialist", site=network.regional,
                                    specialty=specialties["paediatrics"]).user,
        dermatologist=staff_factory(role="specialist", site=network.central,
                                    specialty=specialties["dermatology"]).user,
        national_cardiologist=staff_factory(role="specialist", site=network.national,
                                            specialty=specialties["cardiology"]).user,
        national_nephrologist=staff_factory(role="specialist", site=network.national,
                                            specialty=specialties["nephrology"]).user,
        coordinator=staff_factory(role="coordinator", coverage_region_id=network.spoke.commune.region_id).user,
        national_coordinator=staff_factory(role="coordinator").user,
    )


@pytest.fixture
def on_duty():
    """``on_duty(user, hub, start=None, hours=4)``: the specialist publishes a slot of their hub's roster (from five
    minutes ago by default: on duty now)."""
    from django.utils import timezone

    from caravane.telemed.actions import do_open_slot

    def put(user, hub, *, start=None, hours=4):
        start = start or timezone.now() - datetime.timedelta(minutes=5)
        return do_open_slot(actor=user, hub=hub, start=start, end=start + datetime.timedelta(hours=hours))

    return put


@pytest.fixture
def patient(network):
    """A patient registered at the spoke."""
    from caravane.core.models import new_uuid7
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    pk = new_uuid7()
    return Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name="Itto", family_name="Ouchen",
                                  gender="female", birth_date=datetime.date(1975, 3, 2),
                                  registration_site=network.spoke)


@pytest.fixture
def consent(patient, people, network):
    """The patient's consent to teleconsultation and tele-expertise, from today."""
    from caravane.patients.actions import do_record_consent

    return do_record_consent(actor=people.gp, patient=patient, acts=["teleconsultation", "teleexpertise"],
                             method="signed_paper", period_start=datetime.date.today() - datetime.timedelta(days=1),
                             site=network.spoke)


@pytest.fixture
def visit(patient, people, network):
    """The patient's visit at the spoke, with the GP, vital signs recorded."""
    from caravane.care import actions

    encounter = actions.do_check_in(actor=people.nurse, patient=patient, site=network.spoke)
    encounter = actions.do_advance(actor=people.nurse, encounter=encounter, to="with_nurse")
    actions.do_record_vitals(actor=people.nurse, encounter=encounter,
                             values={"systolic": "172", "diastolic": "101", "heart_rate": "96"})
    return actions.do_advance(actor=people.nurse, encounter=encounter, to="with_gp")


@pytest.fixture
def request_act(visit, consent, people, specialties):
    """Make a request from the visit (a routine cardiology teleconsultation by default)."""
    from caravane.telemed.actions import do_request_act

    def make(**overrides):
        values = {"kind": "teleconsultation", "specialty": "cardiology", "priority": "routine",
                  "question": "Hypertension resistant to two drugs: what next?"}
        values.update(overrides)
        actor = values.pop("actor", people.gp)
        return do_request_act(actor=actor, encounter=values.pop("encounter", visit), **values)

    return make


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64 + b"\n%%EOF"


def upload(name: str, content_type: str, data: bytes, category: str):
    """An Upload of ``data`` as a client would send it (name and declared type)."""
    from django.core.files.base import ContentFile

    from caravane.telemed.actions import Upload

    return Upload(name, content_type, ContentFile(data, name=name), category)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary folder."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "media"}}}
    return tmp_path / "media"


@pytest.fixture
def api_client(client):
    """A test client logged in as a user, for the JSON API."""
    def make(user):
        client.force_login(user)
        return client

    return make


def _worker_fixture():
    """The ``worker_processes`` fixture of tests/tasks, loaded by path (test directories are not packages)."""
    import importlib.util
    import sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("caravane_test_workers",
                                                  Path(__file__).resolve().parents[1] / "tasks" / "workers.py")
    module = sys.modules.get(spec.name)
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return module.worker_processes


worker_processes = _worker_fixture()
