"""Acceptance: a blood-pressure reading published over MQTT as a real monitor's GATT bytes reaches the nurse's
visit page live (no reload); confirmed, it is in the visit's vital signs with its LOINC code and the device."""

from __future__ import annotations

import datetime
import os
import socket
import struct
import threading
import time
import uuid

import pytest

pytestmark = [
    pytest.mark.browser,
    # The listener runs in this test process: its events reach the server's browsers through Redis only.
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the listener's live events need REDIS_URL"),
]

WAIT_MS = 10_000


def _broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
        return True
    except OSError:
        return False


def _sfloat(value: int) -> bytes:
    return struct.pack("<H", value & 0xFFF)


def omron_bytes(systolic: int, diastolic: int, pulse: int, when: datetime.datetime) -> bytes:
    """0x2A35 as an upper-arm monitor notifies it: flags (time stamp, pulse, status), mmHg values, status."""
    stamp = struct.pack("<HBBBBB", when.year, when.month, when.day, when.hour, when.minute, when.second)
    return (bytes([0x16]) + _sfloat(systolic) + _sfloat(diastolic) + _sfloat((systolic + 2 * diastolic) // 3)
            + stamp + _sfloat(pulse) + struct.pack("<H", 0))


@pytest.mark.skipif(not _broker_up(), reason="no Mosquitto on 127.0.0.1:1883")
@pytest.mark.parametrize("locale", ["fr-FR", "ar"])
def test_mqtt_reading_reaches_the_visit_page_live_and_is_confirmed(live_asgi, person, site_factory, staff_factory,
                                                                   locale):
    from django.utils import timezone

    from caravane.care import actions as care_actions
    from caravane.care.models import Observation
    from caravane.core.models import new_uuid7
    from caravane.devices import mqtt, topics
    from caravane.devices.models import Device
    from caravane.network.models import DeviceKind
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    site = site_factory(name="CSR Imilchil")
    assistant = staff_factory(role="assistant", site=site).user
    nurse = staff_factory(role="nurse", site=site, username=f"nurse.{locale}").user
    kind = DeviceKind.objects.get_or_create(code="bp-monitor", defaults={
        "name_fr": "Tensiomètre", "name_ar": "جهاز قياس ضغط الدم", "name_en": "Blood-pressure monitor"})[0]
    device = Device.objects.create(kind=kind, manufacturer="Omron", model_name="M7 Intelli IT",
                                   serial_number=f"BP-{locale}", site=site)
    pk = new_uuid7()
    patient = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name="Itto",
                                     family_name="Oubaha", gender="female", birth_date=datetime.date(1961, 2, 3),
                                     registration_site=site)
    visit = care_actions.do_check_in(actor=assistant, patient=patient, site=site)
    visit = care_actions.do_advance(actor=nurse, encounter=visit, to="with_nurse")

    root = f"wt/devices/{uuid.uuid4().hex[:8]}"
    listener = mqtt.Listener(mqtt.Broker(), client_id=f"wt-devices-browser-{uuid.uuid4().hex[:6]}", root=root)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    publisher = mqtt.GatewayPublisher(mqtt.Broker(), topics.reading_topic(site.code, device.pk, root),
                                      client_id=f"wt-devices-gw-{uuid.uuid4().hex[:6]}")
    try:
        assert listener.connected.wait(10)
        _context, page, errors = person(f"nurse.{locale}", locale=locale)
        page.goto(live_asgi.url(f"/care/visits/{visit.pk}/"))
        # The nurse says which patient the monitor measures now.
        page.select_option("#use-device", str(device.pk))
        with page.expect_navigation():
            page.click("#use-device-submit")
        page.wait_for_selector("#device-readings[data-live=on]", timeout=WAIT_MS)
        page.evaluate("window.notReloaded = true")

        # The monitor's clock shows the site's local time; the measurement was taken three minutes ago.
        measured = timezone.localtime().replace(microsecond=0, tzinfo=None) - datetime.timedelta(minutes=3)
        publisher.notify(0x2A35, omron_bytes(146, 91, 78, measured))
        reading = page.locator(".pending-reading")
        reading.wait_for(timeout=WAIT_MS)
        assert page.evaluate("window.notReloaded") is True
        assert "146" in reading.inner_text() and "91" in reading.inner_text()
        page.screenshot(path=f"/tmp/devices-pending-{locale}.png")

        with page.expect_navigation():
            page.click("[data-confirm-reading]")
        page.locator("#vitals tr[data-code='8480-6']").wait_for(timeout=WAIT_MS)
        assert "Omron M7 Intelli IT" in page.locator("#vitals tr[data-code='8480-6']").inner_text()
        page.screenshot(path=f"/tmp/devices-confirmed-{locale}.png")
        assert not errors, errors
    finally:
        publisher.close()
        listener.stop()
        thread.join(5)
    systolic = Observation.objects.get(encounter=visit, code="8480-6")
    assert systolic.value == 146 and systolic.device_id == device.pk
    assert systolic.effective_at == timezone.make_aware(measured)  # the measurement's time, not the arrival's
