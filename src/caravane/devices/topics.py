"""The MQTT topic scheme of device readings (docs/devices.md), in one place for the listener, the gateway and
the broker's ACL: ``<root>/sites/<site code>/devices/<device id>/readings``."""

from __future__ import annotations

import uuid

ROOT = "caravane"
SUFFIX = "readings"


def reading_topic(site_code: str, device_id, root: str = ROOT) -> str:
    """The topic a device (or its gateway) publishes its readings to."""
    return f"{root}/sites/{site_code}/devices/{device_id}/{SUFFIX}"


def subscription(root: str = ROOT) -> str:
    """The listener's subscription: every site's every device."""
    return f"{root}/sites/+/devices/+/{SUFFIX}"


def parse_topic(topic: str, root: str = ROOT) -> tuple[str, uuid.UUID] | None:
    """(site code, device id) of a reading topic, or None for a topic outside the scheme."""
    prefix = f"{root}/sites/"
    if not topic.startswith(prefix):
        return None
    parts = topic[len(prefix):].split("/")
    if len(parts) != 4 or parts[1] != "devices" or parts[3] != SUFFIX or not parts[0]:
        return None
    try:
        return parts[0], uuid.UUID(parts[2])
    except ValueError:
        return None
