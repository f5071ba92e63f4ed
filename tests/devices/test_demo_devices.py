"""The demo's devices: each pilot centre's and unit's instruments, one of them past its calibration date."""

import pytest

from caravane.demo.devices import build_demo_devices
from caravane.devices.models import Device
from caravane.network.models import DeviceKind, Site

pytestmark = pytest.mark.django_db


def test_demo_devices_are_built_once_with_one_overdue(site_factory):
    kinds = {code: DeviceKind.objects.create(code=code, name_fr=code, name_ar=code, name_en=code)
             for code in ("bp-monitor", "thermometer", "ecg", "glucometer", "otoscope")}
    centre = site_factory(name="CSR Imilchil")
    Site.objects.filter(pk=centre.pk).update(code="rhc-imilchil")
    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, name="UMM 01")
    Site.objects.filter(pk=unit.pk).update(code="unit-01")
    centre.equipment.set([kinds["bp-monitor"], kinds["thermometer"], kinds["ecg"]])
    unit.equipment.set([kinds["bp-monitor"], kinds["glucometer"], kinds["otoscope"]])
    assert build_demo_devices() == 5  # the otoscope is not a device the app reads
    assert build_demo_devices() == 0
    overdue = [device for device in Device.objects.all() if device.calibration_overdue()]
    assert [(d.site.code, d.kind_id) for d in overdue] == [("rhc-imilchil", "thermometer")]
    assert Device.objects.filter(site__code="unit-01", kind="glucometer", manufacturer="Roche").exists()
