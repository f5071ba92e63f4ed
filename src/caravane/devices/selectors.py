"""Reads of the devices app: the registry by site, readings waiting for a nurse, monitoring alerts; event groups."""

from __future__ import annotations

from django.utils import timezone

from caravane.core.events import group_name
from caravane.devices.models import Device, MonitoringAlert, Reading


def site_group(site_id) -> str:
    """The live group of a site's readings (the visit pages and the inbox of that site listen to it)."""
    return group_name("devices", "site", site_id)


def alerts_group(staff_id) -> str:
    """The live group of the monitoring alerts a GP answers for."""
    return group_name("devices", "alerts", staff_id)


def registry(devices, today=None) -> list[tuple[object, list[Device]]]:
    """Devices grouped by site, each marked ``overdue`` when its calibration date has passed."""
    today = today or timezone.localdate()
    by_site: dict = {}
    for device in devices.select_related("kind", "site").order_by("site__name", "kind__name_fr", "serial_number"):
        device.overdue = device.calibration_overdue(today)
        by_site.setdefault(device.site, []).append(device)
    return list(by_site.items())


def pending_for_visit(encounter) -> list[Reading]:
    """The readings waiting for the nurse's confirmation in a visit, oldest measurement first."""
    return list(Reading.objects.filter(encounter=encounter, state=Reading.State.PENDING)
                .select_related("device", "device__kind").order_by("measured_at"))


def inbox(readings) -> list[Reading]:
    """Pending readings that no visit claims yet (no patient selected on the device)."""
    return list(readings.filter(state=Reading.State.PENDING, encounter__isnull=True)
                .select_related("device", "device__kind", "site", "patient").order_by("measured_at"))


def open_alerts(alerts) -> list[MonitoringAlert]:
    """Alerts not yet acknowledged, newest first, with their patient and plan."""
    return list(alerts.filter(acknowledged_at__isnull=True)
                .select_related("plan", "plan__patient", "target", "reading").order_by("-raised_at"))
