"""`caravane restore SRC`: verify a backup's hashes, restore it into this instance, then check what was restored."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from caravane.backup.archive import BackupError, restore, media_root


class Command(BaseCommand):
    help = ("Restore a backup made by `caravane backup` into this instance's database and media directory; "
            "refuses a target that is not empty unless --force. Stop the server first.")

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="The backup directory")
        parser.add_argument("--force", action="store_true",
                            help="Replace the database and files the target already holds")

    def handle(self, *args, source: Path, force: bool, **options):
        try:
            report = restore(source, database=connections[DEFAULT_DB_ALIAS].settings_dict, media_root=media_root(),
                             force=force, before_change=connections.close_all)
        except (BackupError, OSError) as error:
            raise CommandError(f"restore failed: {error}") from error
        self.stdout.write(f"Restored {source}: {report.tables} tables, {report.rows} rows, {report.files} media files.")
        self.stdout.write(report.audit)
        for note in report.notes:
            self.stdout.write(note)
        if not report.ok:
            raise CommandError("the restored instance does not match the backup:\n- " + "\n- ".join(report.problems),
                               returncode=1)
        self.stdout.write("Row counts, file hashes and the audit chain match the backup.")
