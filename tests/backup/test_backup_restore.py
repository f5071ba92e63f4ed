"""A restore drill on the database the suite runs on: back up a populated instance while it writes, restore it into
a fresh one, and compare row counts, file hashes and the audit trail; a damaged backup changes nothing."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from pathlib import Path

import dj_database_url
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from caravane.audit.actions import do_record_audit
from caravane.audit.models import AuditEvent
from caravane.backup.archive import BackupError, backup, read_state, restore, sha256_of, temporary_connection
from tests.web.access_world import build_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(tmp_path, settings):
    """The instance's media directory, in the test's own folder."""
    root = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}}}
    return root


def _pg_admin():
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True)


@pytest.fixture
def fresh(tmp_path):
    """A fresh instance of the same kind: an empty database (a new SQLite file or PostgreSQL database) and media."""
    source = connection.settings_dict
    if connection.vendor == "sqlite":
        yield {**source, "NAME": tmp_path / "restored.sqlite3"}, tmp_path / "restored-media"
        return
    name = dj_database_url.parse(settings.CARAVANE.database_url)["NAME"] + "_restore_drill"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {**source, "NAME": name}, tmp_path / "restored-media"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _state(database: dict) -> dict:
    """Row counts, migrations and audit head of a database, read outside Django."""
    if connection.vendor == "sqlite":
        with sqlite3.connect(database["NAME"]) as conn:
            return read_state(conn.cursor(), "sqlite")
    import psycopg

    params = {**connection.get_connection_params(), "dbname": database["NAME"]}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as conn, conn.cursor() as cursor:
        return read_state(cursor, "postgresql")


def _hashes(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): sha256_of(path) for path in root.rglob("*") if path.is_file()}


class Writer(threading.Thread):
    """Appends audit rows from its own connection until stopped, as a serving instance does."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop, self.written, self.error = threading.Event(), 0, None
        self.progress = threading.Condition()

    def run(self):
        try:
            while not self.stop.is_set():
                do_record_audit(actor=None, action="drill.write", detail={"n": self.written})
                with self.progress:
                    self.written += 1
                    self.progress.notify_all()
        except Exception as error:  # reported by the test, which would otherwise wait forever
            self.error = error
            with self.progress:
                self.progress.notify_all()
        finally:
            connection.close()

    def wait_for(self, count: int) -> None:
        with self.progress:
            self.progress.wait_for(lambda: self.written >= count or self.error is not None)
        assert self.error is None, self.error


def test_a_live_backup_restores_into_a_fresh_instance(media, fresh, tmp_path):
    build_world()
    (media / "extra").mkdir(parents=True)
    (media / "extra" / "note.txt").write_bytes("صورة مرفقة".encode())
    assert any(media.rglob("*.png")), "the world stores an attachment"
    writer = Writer()
    writer.start()
    try:
        writer.wait_for(3)
        out = io.StringIO()
        call_command("backup", str(tmp_path / "backup"), stdout=out)
        # One more write after the backup's snapshot: the live instance moves on, the backup does not.
        writer.wait_for(writer.written + 1)
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None, writer.error
    assert "Backup written to" in out.getvalue()
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    assert {entry["path"] for entry in manifest["files"]} >= {"media/extra/note.txt"}

    database, restored_media = fresh
    report = restore(tmp_path / "backup", database=database, media_root=restored_media)
    assert report.ok, report.problems
    assert "intact" in report.audit

    live, restored = _state(connection.settings_dict), _state(database)
    # Row counts: the restored instance holds what the snapshot held, table by table.
    assert restored["tables"] == manifest["tables"]
    audit_table = AuditEvent._meta.db_table
    assert restored["tables"][audit_table] < live["tables"][audit_table]
    assert {t: n for t, n in restored["tables"].items() if t != audit_table} == \
        {t: n for t, n in live["tables"].items() if t != audit_table}
    assert restored["migrations"] == live["migrations"]
    # Files: the same names with the same hashes.
    assert _hashes(restored_media) == _hashes(media)
    # The audit trail: verifying, with the backup's head, which is a row of the live chain.
    head = restored["audit_head"]
    assert head == manifest["audit_head"] and head["sequence"] > 3
    assert AuditEvent.objects.get(sequence=head["sequence"]).row_hash == head["row_hash"]
    verified = io.StringIO()
    with temporary_connection(database, "restored"):
        call_command("audit", "--database", "restored", "verify", stdout=verified)
    assert f"Audit trail intact: {head['sequence']} rows checked" in verified.getvalue()
    assert f"head {head['sequence']} {head['row_hash']}" in verified.getvalue()


@pytest.fixture
def small_backup(media, tmp_path):
    """A backup of a small instance: a few audit rows and two stored files."""
    for n in range(3):
        do_record_audit(actor=None, action="drill.write", detail={"n": n})
    (media / "a").mkdir(parents=True)
    (media / "a" / "one.pdf").write_bytes(b"%PDF-1.4 one")
    (media / "two.png").write_bytes(b"\x89PNG two")
    path = tmp_path / "backup"
    backup(path, database=connection.settings_dict, media_root=media)
    return path


def _target_snapshot(database, media_root):
    name = Path(str(database["NAME"]))
    if connection.vendor == "sqlite":
        stored = sha256_of(name) if name.exists() else None
    else:
        stored = _state(database)["tables"]
    return stored, _hashes(media_root) if media_root.exists() else None


@pytest.mark.parametrize("damage", ["media", "database", "extra file", "missing file", "manifest"])
def test_a_damaged_backup_is_refused_and_changes_nothing(small_backup, fresh, damage):
    database, restored_media = fresh
    restore(small_backup, database=database, media_root=restored_media)
    (restored_media / "kept.txt").write_text("already here")
    before = _target_snapshot(database, restored_media)
    if damage == "media":
        target = small_backup / "media" / "a" / "one.pdf"
        target.write_bytes(target.read_bytes().replace(b"one", b"ONE"))  # same size, other content
    elif damage == "database":
        target = next(small_backup.glob("database.*"))
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "extra file":
        (small_backup / "media" / "planted.sh").write_text("#!/bin/sh")
    elif damage == "missing file":
        (small_backup / "media" / "two.png").unlink()
    else:
        manifest = small_backup / "manifest.json"
        manifest.write_text(manifest.read_text() + " ")
    with pytest.raises(BackupError) as refused:
        restore(small_backup, database=database, media_root=restored_media, force=True)
    message = str(refused.value)
    expected = {"media": "media/a/one.pdf: its SHA-256", "database": "database.",
                "extra file": "media/planted.sh: not in", "missing file": "media/two.png: missing",
                "manifest": "manifest.json is corrupt"}[damage]
    assert expected in message
    assert _target_snapshot(database, restored_media) == before


def test_restore_refuses_a_target_that_is_not_empty_unless_forced(small_backup, fresh):
    database, restored_media = fresh
    restore(small_backup, database=database, media_root=restored_media)
    with pytest.raises(BackupError, match="the target is not empty"):
        restore(small_backup, database=database, media_root=restored_media)
    (restored_media / "stale.txt").write_text("from before")
    report = restore(small_backup, database=database, media_root=restored_media, force=True)
    assert report.ok, report.problems
    assert not (restored_media / "stale.txt").exists() and report.files == 2


def test_the_command_answers_a_missing_or_broken_backup_with_a_message(media, tmp_path):
    with pytest.raises(CommandError, match="no backup at"):
        call_command("restore", str(tmp_path / "nowhere"))
    (tmp_path / "junk").mkdir()
    with pytest.raises(CommandError, match="manifest.json is missing"):
        call_command("restore", str(tmp_path / "junk"))
    (tmp_path / "file.tar").write_bytes(b"not a backup")
    with pytest.raises(CommandError, match="is not a backup directory"):
        call_command("restore", str(tmp_path / "file.tar"))


def test_the_command_refuses_to_overwrite_a_backup(small_backup):
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(small_backup))


def test_the_command_leaves_a_configured_instance_that_is_not_empty(small_backup, media):
    with pytest.raises(CommandError, match="the target is not empty"):
        call_command("restore", str(small_backup))
