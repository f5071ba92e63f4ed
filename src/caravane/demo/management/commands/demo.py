"""`caravane demo [--serve] [--host 127.0.0.1] [--port 8000]`: build the demo network and serve it."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Command(BaseCommand):
    help = ("Migrate the database, collect the static files, load Morocco's geography and build the demo network, patients and care "
            "(safe to run again); "
            "with --serve, serve it as `caravane serve` does.")

    def add_arguments(self, parser):
        parser.add_argument("--serve", action="store_true", help="Serve the app once the demo is built.")
        parser.add_argument("--host", default="127.0.0.1", help="Address to serve on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (default 8000).")

    def handle(self, *args, serve=False, host="127.0.0.1", port=8000, **options):
        from caravane.geo.models import Commune, Region
        from caravane.demo.care import build_demo_care
        from caravane.demo.devices import build_demo_devices
        from caravane.demo.diagnostics import build_demo_diagnostics
        from caravane.demo.network import REGION_CAPITALS, build_demo_network
        from caravane.demo.pharmacy import build_demo_pharmacy

        if settings.CARAVANE.is_production:
            raise CommandError(_("The demo creates accounts with a published password: it does not run in production."))
        out = self.stdout.write
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        # The served pages name static files by their content hash (caravane.core.staticfiles): collect them.
        call_command("collectstatic", interactive=False, verbosity=0)
        migrated = time.perf_counter()
        regions = Region.objects.filter(code__in=list(REGION_CAPITALS)).count()
        if regions < len(REGION_CAPITALS) or not Commune.objects.exists():
            out(_("Loading the geography of Morocco (regions, provinces, communes)…"))
            call_command("load_geography", stdout=self.stdout)
        loaded = time.perf_counter()
        result = build_demo_network()
        care = build_demo_care()
        build_demo_devices()  # the pilot centres' and units' connected devices (caravane.demo.devices)
        medicines = build_demo_pharmacy()
        build_demo_diagnostics()

        out(self.style.SUCCESS(_("Demo network ready.")))
        out("  " + _("migrate %(migrate).1f s, geography %(geography).1f s, network %(network).2f s") % {
            "migrate": migrated - started, "geography": loaded - migrated, "network": result.seconds})
        out("  " + ", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in result.counts.items()))
        added = ", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in result.created.items() if count)
        out("  " + (_("added this run: %(added)s") % {"added": added} if added
                    else _("added this run: nothing (already complete)")))
        out("  " + _("patients and care %(seconds).2f s: %(counts)s") % {
            "seconds": care.seconds,
            "counts": ", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in care.counts.items())})
        added = ", ".join(f"{name}: {count}" for name, count in care.created.items() if count)
        out("  " + (_("added this run: %(added)s") % {"added": added} if added
                    else _("added this run: nothing (already complete)")))
        out("  " + _("medicines: %(counts)s") % {
            "counts": ", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in medicines.items())})
        out("")
        out(_("Demo logins (password for all: %(password)s):") % {"password": result.password})
        width = max(len(login.username) for login in result.logins)
        for login in result.logins:
            out(f"  {login.username.ljust(width)}  {login.role}" + (f" – {login.site}" if login.site else ""))
        if serve:
            self._serve(host, port)

    def _serve(self, host: str, port: int) -> None:
        """Serve the app (HTTP and WebSockets) with the production server until interrupted."""
        from caravane.core.management.commands.serve import run

        if host not in LOOPBACK and "*" not in settings.ALLOWED_HOSTS:
            self.stdout.write(self.style.WARNING(
                _("Other machines reach the app only by a name listed in CARAVANE_ALLOWED_HOSTS (now: %(hosts)s).")
                % {"hosts": ", ".join(settings.ALLOWED_HOSTS) or "-"}))
        self.stdout.write("")
        config = settings.CARAVANE
        run(self, host, port, workers=config.web_workers, task_workers=config.task_workers)
