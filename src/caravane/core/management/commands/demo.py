"""`caravane demo [--serve] [--host 127.0.0.1] [--port 8000]`: build the demo network and serve it."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Migrate the database, load Morocco's geography and build the demo network (safe to run again); "
            "with --serve, start the ASGI server.")

    def add_arguments(self, parser):
        parser.add_argument("--serve", action="store_true", help="Serve the app once the demo is built.")
        parser.add_argument("--host", default="127.0.0.1", help="Address to serve on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (default 8000).")

    def handle(self, *args, serve=False, host="127.0.0.1", port=8000, **options):
        from caravane.geo.models import Commune
        from caravane.network.demo import build_demo_network

        if settings.CARAVANE.is_production:
            raise CommandError("The demo creates accounts with a published password: it does not run in production.")
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        migrated = time.perf_counter()
        if not Commune.objects.exists():
            self.stdout.write("Loading the geography of Morocco (regions, provinces, communes)…")
            call_command("load_geography")
        loaded = time.perf_counter()
        result = build_demo_network()

        out = self.stdout.write
        out(self.style.SUCCESS("Demo network ready."))
        out(f"  migrate {migrated - started:.1f} s, geography {loaded - migrated:.1f} s, "
            f"network {result.seconds:.2f} s")
        out("  " + ", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in result.counts.items()))
        added = {name: count for name, count in result.created.items() if count}
        out("  added this run: " + (", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in added.items())
                                     if added else "nothing (already complete)"))
        out("")
        out(f"Demo logins (password for all: {result.password}):")
        width = max(len(login.username) for login in result.logins)
        for login in result.logins:
            out(f"  {login.username.ljust(width)}  {login.role}" + (f" – {login.site}" if login.site else ""))
        if serve:
            self._serve(host, port)

    def _serve(self, host: str, port: int) -> None:
        """Run the ASGI app (HTTP and WebSockets) with daphne until interrupted."""
        from daphne.cli import CommandLineInterface

        shown = f"[{host}]" if ":" in host else host
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Serving Caravane on http://{shown}:{port}/ (Ctrl+C to stop)"))
        self.stdout.flush()
        CommandLineInterface().run(["-b", host, "-p", str(port), "caravane.asgi:application"])
