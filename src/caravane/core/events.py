"""Events sent to WebSocket groups once the transaction that caused them commits."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def group_name(*parts: object) -> str:
    """A channel-layer group name made of safe characters (letters, digits, dots, dashes)."""
    raw = ".".join(str(part) for part in parts)
    return "".join(ch if ch.isalnum() or ch in ".-_" else "-" for ch in raw)[:99]


def publish(group: str, event_type: str, payload: dict) -> None:
    """Send an event to a group now; losing a live notification must not fail the request."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "caravane.event", "event": event_type, "payload": payload})
    except Exception:  # the state change is committed; a missed push is recovered by the next page load
        logger.exception("could not publish %s to %s", event_type, group)


def publish_on_commit(group: str, event_type: str, payload: dict) -> None:
    """Send an event after the current transaction commits (never for a rolled-back change)."""
    transaction.on_commit(lambda: publish(group, event_type, payload))
