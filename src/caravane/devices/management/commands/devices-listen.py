"""`caravane devices-listen`: the MQTT subscriber that stores device readings (see caravane.devices.mqtt)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from caravane.devices import topics
from caravane.devices.mqtt import Broker, Listener


class Command(BaseCommand):
    help = "Subscribe to the devices' MQTT topics (QoS 1, persistent session) and store their readings."

    def add_arguments(self, parser):
        parser.add_argument("--broker", help="mqtt://user:password@host:port (default: MQTT_URL)")
        parser.add_argument("--client-id", default="caravane-devices-listen",
                            help="Stable id of the persistent session (one per listener)")
        parser.add_argument("--root", default=topics.ROOT, help="Topic root (default: caravane)")

    def handle(self, *args, **options):
        url = options["broker"] or settings.CARAVANE.mqtt_url
        if not url:
            raise CommandError("No broker: give --broker or set MQTT_URL.")
        try:
            broker = Broker.from_url(url)
        except ValueError as error:
            raise CommandError(str(error))
        listener = Listener(broker, client_id=options["client_id"], root=options["root"])
        self.stdout.write(f"devices-listen: {broker.host}:{broker.port} {topics.subscription(options['root'])}")
        try:
            listener.run()
        except KeyboardInterrupt:
            listener.stop()
