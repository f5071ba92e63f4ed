"""Fixtures for devices tests: a health centre with its team, a patient with an open visit, registered devices,
and GATT byte vectors of real measurements."""

from __future__ import annotations

import base64
import datetime
import struct

import pytest


def sfloat(mantissa: int, exponent: int = 0) -> bytes:
    """An IEEE 11073 SFLOAT built from its fields, little-endian."""
    return struct.pack("<H", ((exponent & 0xF) << 12) | (mantissa & 0xFFF))


def bp_bytes(systolic: int, diastolic: int, pulse: int, when: datetime.datetime | None = None) -> bytes:
    """A Blood Pressure Measurement (0x2A35) as an upper-arm monitor sends it: mmHg, time stamp, pulse."""
    flags = 0x04 | (0x02 if when else 0)
    stamp = struct.pack("<HBBBBB", when.year, when.month, when.day, when.hour, when.minute, when.second) if when else b""
    return bytes([flags]) + sfloat(systolic) + sfloat(diastolic) + sfloat((systolic + 2 * diastolic) // 3) + stamp \
        + sfloat(pulse)


def bp_message(message_id: str, systolic=128, diastolic=82, pulse=72, when=None, **extra) -> dict:
    return {"message_id": message_id, "characteristic": "0x2A35",
            "gatt": base64.b64encode(bp_bytes(systolic, diastolic, pulse, when)).decode(), **extra}


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def patient_factory(db):
    from caravane.core.models import new_uuid7
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    def make(*, site, given_name="Fatima", family_name="Amrani"):
        pk = new_uuid7()
        return Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name=given_name,
                                      family_name=family_name, gender="female", birth_date=datetime.date(1970, 5, 1),
                                      registration_site=site)

    return make


@pytest.fixture
def team(site_factory, staff_factory):
    site = site_factory(name="CSR Test")
    return {"site": site, "assistant": staff_factory(role="assistant", site=site).user,
            "nurse": staff_factory(role="nurse", site=site).user, "gp": staff_factory(role="gp", site=site).user}


@pytest.fixture
def kinds(db):
    from caravane.network.models import DeviceKind

    return {code: DeviceKind.objects.get_or_create(code=code, defaults={"name_fr": code, "name_ar": code,
                                                                         "name_en": code})[0]
            for code in ("bp-monitor", "thermometer", "glucometer")}


@pytest.fixture
def device(team, kinds):
    from caravane.devices.models import Device

    return Device.objects.create(kind=kinds["bp-monitor"], manufacturer="Omron", model_name="M7 Intelli IT",
                                 serial_number="BP-0001", site=team["site"], firmware="1.4.2",
                                 calibration_due=datetime.date.today() + datetime.timedelta(days=200))


@pytest.fixture
def visit(team, patient_factory):
    """A patient's visit at the team's site, with the nurse."""
    from caravane.care import actions

    patient = patient_factory(site=team["site"])
    encounter = actions.do_check_in(actor=team["assistant"], patient=patient, site=team["site"])
    return actions.do_advance(actor=team["nurse"], encounter=encounter, to="with_nurse")
