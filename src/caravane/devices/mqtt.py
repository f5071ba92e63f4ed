"""MQTT ingestion: the listener behind `caravane devices-listen`, and the gateway's publisher.

The listener subscribes with QoS 1 in a persistent session (clean_session false, a stable client id), so the
broker keeps the readings published while it is away. It acknowledges a message only once it is stored (or
refused for good): a message whose storing failed is not acknowledged, and the broker delivers it again after
the reconnection the listener then forces. Storing is idempotent by message id, so a redelivery is stored once.
Broker restarts are survived by paho's reconnection loop; every (re)connection subscribes again.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from django.db import OperationalError, close_old_connections

from caravane.core.models import new_uuid7
from caravane.devices import topics

logger = logging.getLogger(__name__)

QOS = 1
MAX_MESSAGE = 16 * 1024


@dataclass(frozen=True)
class Broker:
    """Where the broker is and how to log in to it (``mqtt://user:password@host:1883``, ``mqtts://`` for TLS)."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> Broker:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT URL: mqtt:// or mqtts://, not {parts.scheme}://")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(host=parts.hostname or "127.0.0.1", port=parts.port or (8883 if tls else 1883),
                    username=parts.username, password=parts.password, tls=tls)

    def client(self, client_id: str, *, persistent: bool) -> paho.Client:
        """A paho client for this broker: a persistent session keeps subscriptions and queued QoS 1 messages."""
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent,
                             protocol=paho.MQTTv311, manual_ack=persistent)
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set()  # the system's CA store verifies the broker's certificate
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        return client


def handle(topic: str, payload: bytes, root: str = topics.ROOT) -> tuple[str, str]:
    """Store one MQTT message as a reading: ("stored" | "duplicate" | "refused", detail). Storage errors propagate."""
    from caravane.devices.actions import ReadingRefused, do_receive_reading
    from caravane.devices.models import Device, Reading

    parsed = topics.parse_topic(topic, root)
    if parsed is None:
        return "refused", "topic outside the scheme"
    site_code, device_id = parsed
    device = Device.objects.select_related("site").filter(pk=device_id).first()
    if device is None or device.site.code != site_code:
        return "refused", "no such device at this site"
    if len(payload) > MAX_MESSAGE:
        return "refused", "message too long"
    try:
        message = json.loads(payload)
        if not isinstance(message, dict):
            raise ValueError
    except ValueError:
        return "refused", "not a JSON object"
    try:
        reading, created = do_receive_reading(device=device, message=message, raw=payload,
                                              channel=Reading.Channel.MQTT)
    except ReadingRefused as error:
        return "refused", str(error)
    return ("stored" if created else "duplicate"), str(reading.pk)


class Listener:
    """The subscriber service: run() blocks, reconnecting for ever; stop() ends it (from another thread)."""

    def __init__(self, broker: Broker, *, client_id: str = "caravane-devices-listen", root: str = topics.ROOT,
                 on_outcome=None):
        self.broker, self.root, self.on_outcome = broker, root, on_outcome
        self.client = broker.client(client_id, persistent=True)
        self.client.on_connect = self._connected
        self.client.on_message = self._message
        self.connected = threading.Event()

    def _connected(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.warning("MQTT connection refused: %s", reason_code)
            return
        # Subscribing again on every connection: a restarted broker without persistence forgot the session.
        client.subscribe(topics.subscription(self.root), qos=QOS)
        self.connected.set()
        logger.info("listening on %s:%s (%s)", self.broker.host, self.broker.port, topics.subscription(self.root))

    def _message(self, client, userdata, message):
        for attempt in range(3):
            close_old_connections()
            try:
                outcome, detail = handle(message.topic, message.payload, self.root)
                break
            except OperationalError:  # the database is away: not acknowledged, tried again
                logger.exception("could not store the message of %s (attempt %d)", message.topic, attempt + 1)
                time.sleep(1)
        else:
            # Unacknowledged, the message stays with the broker: reconnecting makes it deliver it again.
            self.connected.clear()
            client.disconnect()
            return
        if outcome == "refused":
            logger.warning("refused a message on %s: %s", message.topic, detail)
        client.ack(message.mid, message.qos)
        if self.on_outcome is not None:
            self.on_outcome(outcome, detail)

    def run(self) -> None:
        """Connect (waiting for the broker if it is down) and serve until stop()."""
        self._running = True
        while self._running:
            try:
                self.client.connect(self.broker.host, self.broker.port, keepalive=30)
            except OSError as error:
                logger.warning("MQTT broker %s:%s unreachable (%s); retrying", self.broker.host, self.broker.port, error)
                time.sleep(1)
                continue
            self.client.loop_forever(retry_first_connection=True)
            # loop_forever returns after a disconnect() of ours: a forced redelivery, or stop().

    def stop(self) -> None:
        self._running = False
        self.client.disconnect()


def gateway_message(characteristic: int, data: bytes, *, patient: str | None = None) -> dict:
    """The documented message a gateway publishes for one GATT notification: a fresh message id, the raw bytes
    in base64, and the time the notification arrived (the device's own time stamp, if any, takes precedence)."""
    from django.utils import timezone

    message = {"message_id": str(new_uuid7()), "characteristic": f"0x{characteristic:04X}",
               "gatt": base64.b64encode(bytes(data)).decode(), "measured_at": timezone.now().isoformat()}
    if patient:
        message["patient"] = patient
    return message


class GatewayPublisher:
    """Publishes the notifications of one device to its topic with QoS 1; paho queues them while the link is
    down and sends them once it is back."""

    def __init__(self, broker: Broker, topic: str, *, client_id: str):
        self.topic = topic
        self.client = broker.client(client_id, persistent=False)
        self.client.max_queued_messages_set(10000)
        self.client.connect_async(broker.host, broker.port, keepalive=30)
        self.client.loop_start()

    def notify(self, characteristic: int, data: bytes, *, patient: str | None = None):
        """Publish one notification's bytes; returns paho's MQTTMessageInfo."""
        message = gateway_message(characteristic, data, patient=patient)
        return self.client.publish(self.topic, json.dumps(message), qos=QOS)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
