"""MQTT ingestion against the real Mosquitto: QoS 1, stored once per message id, reconnection after a broker
restart (a private broker on this worktree's port), and the gateway's publishing with injected notifications."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import uuid

import paho.mqtt.client as paho
import pytest

from caravane.devices import mqtt, topics
from caravane.devices.models import Reading

from .conftest import bp_bytes, bp_message

SHARED = mqtt.Broker("127.0.0.1", 1883)
PRIVATE_PORT = 18311
MOSQUITTO = "/usr/sbin/mosquitto"


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


needs_broker = pytest.mark.skipif(not _reachable(1883), reason="no Mosquitto on 127.0.0.1:1883")


@pytest.fixture
def root():
    """A topic root of this test's own under wt/devices/."""
    return f"wt/devices/{uuid.uuid4().hex[:8]}"


def _publish(broker: mqtt.Broker, topic: str, message: dict) -> None:
    client = broker.client(f"wt-devices-pub-{uuid.uuid4().hex[:6]}", persistent=False)
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.publish(topic, json.dumps(message), qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


class Running:
    """A listener served from a thread, with the outcomes it reported."""

    def __init__(self, broker, root):
        self.outcomes = []
        self.listener = mqtt.Listener(broker, client_id=f"wt-devices-{uuid.uuid4().hex[:8]}", root=root,
                                      on_outcome=lambda outcome, detail: self.outcomes.append(outcome))
        self.thread = threading.Thread(target=self.listener.run, daemon=True)
        self.thread.start()
        assert self.listener.connected.wait(10), "the listener did not connect"
        time.sleep(0.3)  # the SUBACK

    def wait_for(self, count: int, seconds: float = 10) -> list:
        deadline = time.monotonic() + seconds
        while len(self.outcomes) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.outcomes

    def stop(self):
        self.listener.stop()
        self.thread.join(5)


@needs_broker
@pytest.mark.django_db(transaction=True)
def test_listener_stores_a_redelivered_message_once(device, root):
    running = Running(SHARED, root)
    try:
        topic = topics.reading_topic(device.site.code, device.pk, root)
        message = bp_message(f"dup-{uuid.uuid4()}")
        _publish(SHARED, topic, message)
        _publish(SHARED, topic, message)  # a gateway retrying, or the broker redelivering
        _publish(SHARED, topic.replace(device.site.code, "elsewhere"), bp_message("wrong-site"))
        assert running.wait_for(3) == ["stored", "duplicate", "refused"]
    finally:
        running.stop()
    assert Reading.objects.filter(message_id=message["message_id"]).count() == 1
    assert Reading.objects.count() == 1


@pytest.mark.skipif(not shutil.which(MOSQUITTO), reason="mosquitto is not installed")
@pytest.mark.django_db(transaction=True)
def test_listener_survives_a_broker_restart(device, root):
    broker = mqtt.Broker("127.0.0.1", PRIVATE_PORT)

    def start():
        process = subprocess.Popen([MOSQUITTO, "-p", str(PRIVATE_PORT)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        for _ in range(50):
            if _reachable(PRIVATE_PORT):
                return process
            time.sleep(0.1)
        process.kill()
        pytest.skip(f"could not start mosquitto on port {PRIVATE_PORT}")

    process = start()
    running = None
    try:
        running = Running(broker, root)
        topic = topics.reading_topic(device.site.code, device.pk, root)
        _publish(broker, topic, bp_message("before-restart"))
        assert running.wait_for(1) == ["stored"]
        running.listener.connected.clear()
        process.terminate()
        process.wait(5)
        time.sleep(1)
        process = start()
        assert running.listener.connected.wait(35), "the listener did not reconnect"
        time.sleep(0.3)
        _publish(broker, topic, bp_message("after-restart"))
        assert running.wait_for(2) == ["stored", "stored"]
    finally:
        if running is not None:
            running.stop()
        process.terminate()
        process.wait(5)
    assert set(Reading.objects.values_list("message_id", flat=True)) == {"before-restart", "after-restart"}


@pytest.mark.django_db
@pytest.mark.parametrize("topic, payload, reason", [
    ("caravane/other/x", b"{}", "outside the scheme"),
    ("caravane/sites/s/devices/not-a-uuid/readings", b"{}", "outside the scheme"),
    ("caravane/sites/s/devices/00000000-0000-7000-8000-000000000000/readings", b"{}", "no such device"),
])
def test_handle_refuses_messages_outside_the_scheme(topic, payload, reason):
    outcome, detail = mqtt.handle(topic, payload)
    assert outcome == "refused" and reason in detail


@pytest.mark.django_db
def test_handle_refuses_non_json_and_stores_valid(device):
    topic = topics.reading_topic(device.site.code, device.pk)
    assert mqtt.handle(topic, b"\xff\x00") == ("refused", "not a JSON object")
    assert mqtt.handle(topic, b"[1]") == ("refused", "not a JSON object")
    assert mqtt.handle(topic, json.dumps(bp_message("h")).encode())[0] == "stored"
    assert mqtt.handle(topic, json.dumps(bp_message("h")).encode())[0] == "duplicate"


def test_broker_urls():
    assert mqtt.Broker.from_url("mqtts://dev:secret@broker.example:8883") == mqtt.Broker(
        "broker.example", 8883, "dev", "secret", True)
    assert mqtt.Broker.from_url("mqtt://127.0.0.1") == mqtt.Broker("127.0.0.1", 1883)
    with pytest.raises(ValueError):
        mqtt.Broker.from_url("http://x")


@needs_broker
@pytest.mark.django_db
def test_gateway_publishes_injected_notifications_as_documented(device, root):
    """The gateway's publishing part, fed notifications as bleak would deliver them (no Bluetooth hardware)."""
    topic = topics.reading_topic(device.site.code, device.pk, root)
    received, subscribed = [], threading.Event()
    watcher = SHARED.client(f"wt-devices-watch-{uuid.uuid4().hex[:6]}", persistent=False)
    watcher.on_subscribe = lambda *args: subscribed.set()
    watcher.on_message = lambda client, userdata, message: received.append((message.topic, message.payload, message.qos))
    watcher.connect(SHARED.host, SHARED.port)
    watcher.subscribe(topic, qos=1)
    watcher.loop_start()
    publisher = mqtt.GatewayPublisher(SHARED, topic, client_id=f"wt-devices-gw-{uuid.uuid4().hex[:6]}")
    try:
        assert subscribed.wait(5)
        # Published at once, connected or not: paho queues what the link cannot take yet.
        publisher.notify(0x2A35, bytearray(bp_bytes(141, 92, 77)))
        publisher.notify(0x2A35, bytearray(bp_bytes(139, 90, 75)), patient="P-1")
        deadline = time.monotonic() + 10
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        publisher.close()
        watcher.loop_stop()
        watcher.disconnect()
    assert [qos for _t, _p, qos in received] == [1, 1]
    first, second = (json.loads(payload) for _t, payload, _q in received)
    assert first["characteristic"] == "0x2A35" and "patient" not in first and second["patient"] == "P-1"
    assert first["message_id"] != second["message_id"]
    assert mqtt.handle(topic.replace(root, topics.ROOT), received[0][1]) == ("stored", str(
        Reading.objects.get(message_id=first["message_id"]).pk))
    assert Reading.objects.get().values == {"systolic": "141", "diastolic": "92", "heart_rate": "77"}
