"""`caravane backup DEST`: the database, the media files and a manifest with their hashes, in a new directory."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from caravane.backup.archive import BackupError, backup, media_root


class Command(BaseCommand):
    help = "Back up the database and the media files to a new directory, with a manifest of their SHA-256."

    def add_arguments(self, parser):
        parser.add_argument("destination", type=Path, help="A directory that does not exist yet (or is empty)")

    def handle(self, *args, destination: Path, **options):
        try:
            manifest = backup(destination, database=connections[DEFAULT_DB_ALIAS].settings_dict,
                              media_root=media_root())
        except (BackupError, OSError) as error:
            raise CommandError(f"backup failed: {error}") from error
        media = [entry for entry in manifest["files"] if entry["path"].startswith("media/")]
        head = manifest["audit_head"]
        self.stdout.write(
            f"Backup written to {destination}: {manifest['database']['vendor']} database "
            f"({len(manifest['tables'])} tables, {sum(manifest['tables'].values())} rows), {len(media)} media files "
            f"({sum(entry['size'] for entry in media)} bytes); audit head {head['sequence']} {head['row_hash'] or '-'}."
        )
