"""`caravane import_commune_indicators PATH...`: merge HCP's 2014 poverty indicators into the communes."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caravane.geo.actions import do_import_commune_indicators


class Command(BaseCommand):
    help = gettext_lazy("Import the 2014 poverty and vulnerability rates of the communes from HCP's "
                        "RGPH 2014 WFS commune files (GML, gzipped or not).")

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help=gettext_lazy("HCP commune GML files (.xml or .xml.gz)"))

    def handle(self, *args, **options):
        try:
            report = do_import_commune_indicators(paths=options["paths"], actor=None)
        except ValueError as error:
            raise CommandError(str(error)) from error
        counts = report.communes
        self.stdout.write(_("%(files)d files, %(features)d features") % {"files": report.files,
                                                                         "features": report.features})
        self.stdout.write(_("communes: %(total)d (%(updated)d updated, %(unchanged)d unchanged)") % {
            "total": counts.total, "updated": counts.updated, "unchanged": counts.unchanged})
        if report.without_data:
            self.stdout.write(_("communes without figures (city partly covered, or no 2014 population): "
                                "%(codes)s") % {
                "codes": ", ".join(report.without_data)})
        self.stdout.write(_("unmatched features: %(count)d") % {"count": len(report.unmatched)})
        for label in report.unmatched:
            self.stdout.write(f"  {label}")
        self.stdout.write(self.style.SUCCESS(_("indicators imported")))
