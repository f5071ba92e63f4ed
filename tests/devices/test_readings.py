"""Readings: received once per message id, routed to a visit, the inbox or remote monitoring, confirmed into
care's Observations with the device, the measurement time and the payload's hash; impossible values refused."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from caravane.audit.models import AuditEvent
from caravane.care import vitals
from caravane.care.models import Observation
from caravane.devices import actions
from caravane.devices.actions import ReadingRefused
from caravane.devices.models import Device, Reading

from .conftest import bp_bytes, bp_message

pytestmark = pytest.mark.django_db


def receive(device, message, **kwargs):
    return actions.do_receive_reading(device=device, message=message, raw=json.dumps(message).encode(),
                                      channel=Reading.Channel.MQTT, **kwargs)


def test_same_message_twice_is_stored_once(device):
    reading, created = receive(device, bp_message("m-1"))
    again, created_again = receive(device, bp_message("m-1"))
    assert created and not created_again and again.pk == reading.pk
    assert Reading.objects.count() == 1
    assert AuditEvent.objects.filter(action="devices.receive_reading").count() == 1


def test_reading_without_patient_goes_to_the_inbox_then_to_a_visit(device, visit, team):
    reading, _ = receive(device, bp_message("m-2"))
    assert reading.encounter is None and reading.state == Reading.State.PENDING
    assert reading.values == {"systolic": "128", "diastolic": "82", "heart_rate": "72"}
    assert reading.payload_sha256 == hashlib.sha256(bp_bytes(128, 82, 72)).hexdigest()
    actions.do_assign_reading(actor=team["nurse"], reading=reading, encounter=visit)
    reading.refresh_from_db()
    assert reading.encounter == visit and reading.patient == visit.patient


def test_reading_goes_to_the_visit_the_device_is_used_for_or_the_patient_named(device, visit, team):
    actions.do_use_device(actor=team["nurse"], device=device, encounter=visit)
    device.refresh_from_db()
    reading, _ = receive(device, bp_message("m-3"))
    assert reading.encounter == visit
    device.in_use_for = None
    device.save()
    named, _ = receive(device, bp_message("m-4", patient=visit.patient.record_number))
    assert named.encounter == visit


def test_confirmed_reading_is_an_observation_with_codes_device_time_and_hash(device, visit, team):
    measured = datetime.datetime(2026, 1, 5, 9, 30, 5)
    reading, _ = receive(device, bp_message("m-5", when=measured), encounter=visit)
    observations = actions.do_confirm_reading(actor=team["nurse"], reading=reading)
    by_code = {o.code: o for o in observations}
    assert set(by_code) == {"8480-6", "8462-4", "8867-4"}
    systolic = by_code["8480-6"]
    assert systolic.value == 128 and systolic.unit == "mm[Hg]" and systolic.panel == vitals.BLOOD_PRESSURE_PANEL[0]
    assert systolic.effective_at == timezone.make_aware(measured)  # the measurement's time, not arrival's
    assert systolic.device_id == device.pk and "Omron M7 Intelli IT" in systolic.device_display
    assert systolic.payload_sha256 == hashlib.sha256(bp_bytes(128, 82, 72, measured)).hexdigest()
    reading.refresh_from_db()
    assert reading.state == Reading.State.CONFIRMED
    assert sorted(reading.observations) == sorted(str(o.pk) for o in observations)
    # One audit row: care's own, naming the device.
    row = AuditEvent.objects.filter(action="care.record_vitals").latest("sequence")
    assert row.detail["device"] == str(device.pk)
    with pytest.raises(ValidationError, match="already confirmed"):
        actions.do_confirm_reading(actor=team["nurse"], reading=reading)
    assert Observation.objects.filter(encounter=visit).count() == 3


def test_impossible_value_refused_and_nothing_half_saved(device, visit, team):
    reading, _ = receive(device, bp_message("m-6", systolic=400, diastolic=82), encounter=visit)
    with pytest.raises(vitals.VitalsError, match="not physiologically possible"):
        actions.do_confirm_reading(actor=team["nurse"], reading=reading)
    reading.refresh_from_db()
    assert reading.state == Reading.State.PENDING and not Observation.objects.filter(encounter=visit).exists()


def test_confirmation_needs_the_nurse_step_and_the_scope(device, visit, team, site_factory, staff_factory):
    reading, _ = receive(device, bp_message("m-7"), encounter=visit)
    stranger = staff_factory(role="nurse", site=site_factory()).user
    with pytest.raises(PermissionDenied):
        actions.do_confirm_reading(actor=stranger, reading=reading)
    with pytest.raises(PermissionDenied):
        actions.do_confirm_reading(actor=team["assistant"], reading=reading)
    reading.refresh_from_db()
    assert reading.state == Reading.State.PENDING


@pytest.mark.parametrize("message, reason", [
    ({"message_id": ""}, "message_id"),
    ({"message_id": "x" * 101}, "message_id"),
    ({"message_id": "a", "characteristic": "0x2A35", "gatt": "%%%"}, "base64"),
    ({"message_id": "a", "characteristic": "0x2A35", "gatt": base64.b64encode(b"\x00\x01").decode()}, "truncated"),
    ({"message_id": "a", "characteristic": "0x2A37", "gatt": "AAAA"}, "not a supported"),
    ({"message_id": "a", "values": {"systolic": "NaN"}}, "finite"),
    ({"message_id": "a", "values": {"bmi": 20}}, "unknown vital sign"),
    ({"message_id": "a", "values": []}, "values"),
    ({"message_id": "a", "values": {"systolic": 120}, "measured_at": "yesterday"}, "ISO 8601"),
    ({"message_id": "a", "values": {"systolic": 120}, "measured_at": "2999-01-01T00:00:00+00:00"}, "future"),
    ({"message_id": "a", "values": {"systolic": 120}, "patient": "nobody"}, "no patient"),
])
def test_malformed_messages_refused_with_a_reason_and_nothing_stored(device, message, reason):
    with pytest.raises(ReadingRefused, match=reason):
        receive(device, message)
    assert not Reading.objects.exists()


def test_json_reading_and_out_of_service_device(device, visit):
    reading, _ = receive(device, {"message_id": "j-1", "values": {"temperature": 37.2},
                                  "measured_at": "2026-01-05T08:00:00+01:00"}, encounter=visit)
    assert reading.characteristic == "json" and reading.values == {"temperature": "37.2"}
    assert reading.measured_at == datetime.datetime(2026, 1, 5, 7, 0, tzinfo=datetime.timezone.utc)
    device.status = Device.Status.INACTIVE
    device.save()
    with pytest.raises(ReadingRefused, match="out of service"):
        receive(device, bp_message("j-2"))


def test_message_id_of_another_device_is_refused(device, kinds, team):
    other = Device.objects.create(kind=kinds["thermometer"], manufacturer="W", model_name="T", serial_number="T-1",
                                  site=team["site"])
    receive(device, bp_message("shared"))
    with pytest.raises(ReadingRefused, match="another device"):
        receive(other, bp_message("shared"))


def test_dismissed_reading_stays_on_record(device, visit, team):
    reading, _ = receive(device, bp_message("m-8"), encounter=visit)
    actions.do_dismiss_reading(actor=team["nurse"], reading=reading)
    reading.refresh_from_db()
    assert reading.state == Reading.State.DISMISSED
    with pytest.raises(ValidationError):
        actions.do_confirm_reading(actor=team["nurse"], reading=reading)


def test_register_and_change_device_audited_with_duplicate_refused(team, kinds, site_factory):
    site = team["site"]
    device = actions.do_register_device(actor=team["gp"], site=site, kind="bp-monitor", manufacturer="Omron",
                                        model_name="M7", serial_number="S1", calibration_due="2020-01-01")
    assert device.calibration_overdue()
    assert AuditEvent.objects.filter(action="devices.register_device", object_id=str(device.pk)).count() == 1
    with pytest.raises(ValidationError) as refused:
        actions.do_register_device(actor=team["gp"], site=site, kind="nope", manufacturer="Omron", model_name="M7",
                                   serial_number="S1", calibration_due="1/2/3")
    assert set(refused.value.message_dict) == {"kind", "calibration_due"}
    with pytest.raises(ValidationError, match="already registered"):
        actions.do_register_device(actor=team["gp"], site=site, kind="bp-monitor", manufacturer="Omron",
                                   model_name="M7", serial_number="S1")
    with pytest.raises(PermissionDenied):
        actions.do_register_device(actor=team["nurse"], site=site, kind="bp-monitor", manufacturer="A",
                                   model_name="B", serial_number="C")
    with pytest.raises(PermissionDenied):
        actions.do_register_device(actor=team["gp"], site=site_factory(), kind="bp-monitor", manufacturer="A",
                                   model_name="B", serial_number="C")
    actions.do_change_device(actor=team["gp"], device=device, kind="bp-monitor", manufacturer="Omron",
                             model_name="M7", serial_number="S1", firmware="2.0", calibration_due="2030-01-01")
    device.refresh_from_db()
    assert device.firmware == "2.0" and not device.calibration_overdue()
    assert AuditEvent.objects.get(action="devices.change_device").detail["changed"] == ["calibration_due", "firmware"]
