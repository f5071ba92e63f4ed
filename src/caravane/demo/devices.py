"""The demo's connected devices: the instruments of the pilot centres (2018) and the mobile units (2023).

Each site gets one device of each kind of its equipment that the devices app reads (blood pressure, thermometer,
pulse oximeter, glucometer, ECG, dermatoscope), with realistic makers and models, deterministic serial numbers
and calibration dates; one of Imilchil's, the thermometer, is past its calibration date so that the registry's
flag shows. Run again, it adds only what is missing.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from caravane.audit.actions import do_record_audit
from caravane.devices.models import Device
from caravane.network.models import Site

# kind -> (maker, model, firmware)
MODELS = {
    "bp-monitor": ("Omron", "M7 Intelli IT", "1.4.2"),
    "thermometer": ("Withings", "Thermo SCT01", "2.1.0"),
    "pulse-oximeter": ("Nonin", "3230 Bluetooth", "1.2"),
    "glucometer": ("Roche", "Accu-Chek Instant", "3.0"),
    "ecg": ("Schiller", "Cardiovit AT-102 G2", "2.6"),
    "dermatoscope": ("Heine", "Delta 30", "1.0"),
}
OVERDUE = ("rhc-imilchil", "thermometer")


def _demo_devices(today: datetime.date) -> list[Device]:
    devices = []
    sites = Site.objects.filter(kind__in=(Site.Kind.RURAL_HEALTH_CENTRE, Site.Kind.MOBILE_UNIT),
                                code__regex=r"^(rhc-|unit-)").prefetch_related("equipment").order_by("code")
    for index, site in enumerate(sites):
        for kind in site.equipment.all():
            if kind.code not in MODELS:
                continue
            maker, model, firmware = MODELS[kind.code]
            # Calibrated yearly, on dates spread over the coming year; one deliberately overdue.
            due = today + datetime.timedelta(days=30 + (index * 37 + len(devices) * 11) % 330)
            if (site.code, kind.code) == OVERDUE:
                due = today - datetime.timedelta(days=12)
            devices.append(Device(kind=kind, manufacturer=maker, model_name=model, site=site, firmware=firmware,
                                  serial_number=f"{site.code.upper()}-{kind.code.upper()}", calibration_due=due))
    return devices


def build_demo_devices() -> int:
    """Register the demo's devices that are missing (one transaction, one audit row); returns how many."""
    today = timezone.localdate()
    with transaction.atomic(durable=True):
        planned = _demo_devices(today)
        existing = set(Device.objects.values_list("manufacturer", "model_name", "serial_number"))
        new = [d for d in planned if (d.manufacturer, d.model_name, d.serial_number) not in existing]
        Device.objects.bulk_create(new)
        do_record_audit(actor=None, action="build_demo_devices", target=("devices.demo", ""),
                        detail={"created": len(new), "devices": Device.objects.count()})
    return len(new)
