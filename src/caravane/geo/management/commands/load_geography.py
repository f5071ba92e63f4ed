"""`caravane load_geography`: load Morocco's regions, provinces and communes (idempotent)."""

import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caravane.geo.actions import do_load_geography


class Command(BaseCommand):
    help = gettext_lazy("Load or refresh Morocco's regions, provinces and communes from the installed data packages.")

    def handle(self, *args, **options):
        started = time.perf_counter()
        report = do_load_geography(actor=None)
        elapsed = time.perf_counter() - started
        for name in ("regions", "provinces", "communes"):
            counts = getattr(report, name)
            self.stdout.write(_("%(table)s: %(total)d (%(created)d created, %(updated)d updated, %(unchanged)d unchanged)") % {
                "table": name, "total": counts.total, "created": counts.created,
                "updated": counts.updated, "unchanged": counts.unchanged})
        sources = ", ".join(f"{how} {count}" for how, count in sorted(report.geometry_sources.items()))
        self.stdout.write(_("polygons joined by: %(sources)s") % {"sources": sources})
        self.stdout.write(_("communes with 2014 indicators: %(count)d") % {"count": report.with_indicators})
        self.stdout.write(self.style.SUCCESS(_("geography loaded in %(seconds).1f s") % {"seconds": elapsed}))
