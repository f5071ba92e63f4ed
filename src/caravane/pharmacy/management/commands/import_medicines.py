"""Load the WHO Model List of Essential Medicines, and optionally a national list (CSV), into the catalogue."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from caravane.pharmacy.actions import do_import_national_list, do_import_who_list
from caravane.pharmacy.catalogue import ListMissing


class Command(BaseCommand):
    help = "Load the WHO Model List (from its registry package) and, with --national, a national list as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--national", type=Path, help="CSV of the national list (see docs/pharmacy.md)")

    def handle(self, *args, **options):
        try:
            counts = do_import_who_list()
        except ListMissing as error:
            raise CommandError(str(error))
        self.stdout.write(f"WHO list: {counts['categories']} categories, {counts['medicines']} medicines")
        if options["national"]:
            try:
                content = options["national"].read_bytes()
            except OSError as error:
                raise CommandError(f"cannot read {options['national']}: {error.strerror}")
            report = do_import_national_list(content=content)
            self.stdout.write(f"national list: {len(report.accepted)} products kept, {len(report.rejected)} rejected")
            for line, reason in report.rejected:
                self.stdout.write(f"  line {line}: {reason}")
