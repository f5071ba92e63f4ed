"""`caravane device-gateway`: on a unit's laptop, relay a Bluetooth device's measurements to MQTT.

It scans for the device (bleak), connects, subscribes to the health measurement characteristics it offers and
publishes each notification's raw bytes, untouched, to the device's topic (the server decodes and validates).
"""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from caravane.devices import gatt, topics
from caravane.devices.mqtt import Broker, GatewayPublisher


def characteristic_uuid(short: int) -> str:
    """The 128-bit UUID of a 16-bit Bluetooth SIG characteristic."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


async def relay(address: str, publisher: GatewayPublisher, *, patient: str | None, scan_seconds: float, log) -> None:
    """Connect to the device at ``address`` and publish its notifications until it disconnects."""
    from bleak import BleakClient, BleakScanner

    device = await BleakScanner.find_device_by_address(address, timeout=scan_seconds)
    if device is None:
        raise CommandError(f"No Bluetooth device {address} in range.")
    async with BleakClient(device) as client:
        offered = {c.uuid.lower() for service in client.services for c in service.characteristics}
        wanted = [short for short in gatt.NAMES if characteristic_uuid(short) in offered]
        if not wanted:
            raise CommandError("The device offers none of the supported health measurements.")
        for short in wanted:
            await client.start_notify(characteristic_uuid(short),
                                      lambda _c, data, short=short: publisher.notify(short, bytes(data), patient=patient))
            log(f"subscribed to {gatt.NAMES[short]}")
        while client.is_connected:
            await asyncio.sleep(1)


class Command(BaseCommand):
    help = "Relay a Bluetooth health device's measurements (raw GATT bytes) to the MQTT broker."

    def add_arguments(self, parser):
        parser.add_argument("address", help="The device's Bluetooth address")
        parser.add_argument("--device", required=True, help="The device's id in the registry")
        parser.add_argument("--site", required=True, help="The code of the site or unit it belongs to")
        parser.add_argument("--patient", help="Record number of the patient measured (else the visit chosen "
                                               "on the tablet, or the site's inbox)")
        parser.add_argument("--broker", help="mqtt://user:password@host:port (default: MQTT_URL)")
        parser.add_argument("--root", default=topics.ROOT)
        parser.add_argument("--scan-seconds", type=float, default=20)

    def handle(self, *args, **options):
        url = options["broker"] or settings.CARAVANE.mqtt_url
        if not url:
            raise CommandError("No broker: give --broker or set MQTT_URL.")
        topic = topics.reading_topic(options["site"], options["device"], options["root"])
        publisher = GatewayPublisher(Broker.from_url(url), topic, client_id=f"gateway-{options['device']}")
        try:
            asyncio.run(relay(options["address"], publisher, patient=options["patient"],
                              scan_seconds=options["scan_seconds"], log=self.stdout.write))
        finally:
            publisher.close()
