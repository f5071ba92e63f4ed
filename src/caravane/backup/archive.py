"""Backups that restore: the database, the media files and a manifest with every file's SHA-256.

A backup is one directory::

    manifest.json       what was backed up: when, by which version, the database vendor, the migrations applied,
                        each table's row count, the audit chain's head and every file with its SHA-256 and size
    SHA256SUMS          the SHA-256 of manifest.json and of every file, as ``sha256sum -c SHA256SUMS`` reads it
    database.sqlite3    the embedded database, copied by SQLite's online backup API (or database.pgdump:
                        ``pg_dump --format=custom`` of a PostgreSQL database)
    media/...           the stored files (attachments, consent scans), as the storage keeps them

Row counts, migrations and the audit head are read from the same snapshot as the database copy, so a backup taken
while the server writes describes exactly what it holds. Restoring checks every hash before it changes anything.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.db.utils import load_backend
from django.db.migrations.executor import MigrationExecutor

import caravane
from caravane.audit.chain import Anchor, ChainCheck, stored_links, stored_locator
from caravane.audit.models import AuditEvent

FORMAT = "caravane-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MEDIA = "media"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024
# The connection alias under which a restored database is checked.
CHECK_ALIAS = "caravane_restore_check"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message tells the operator why and what to do."""


@dataclass
class RestoreReport:
    """What a restore did and what its checks found."""

    tables: int = 0
    rows: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)
    audit: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _vendor(database: dict) -> str:
    engine = database["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise BackupError(f"cannot back up or restore a database with engine {engine}")


def _quote(name: str) -> str:
    return '"%s"' % name.replace('"', '""')


def read_state(cursor, vendor: str) -> dict:
    """Row counts per table, applied migrations and the audit chain's head, read through a DB-API cursor."""
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
        counts[table] = cursor.fetchone()[0]
    migrations = []
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
    head = {"sequence": 0, "row_hash": None}
    audit_table = AuditEvent._meta.db_table
    if audit_table in counts:
        cursor.execute(f"SELECT sequence, row_hash FROM {_quote(audit_table)} ORDER BY sequence DESC LIMIT 1")
        row = cursor.fetchone()
        if row:
            head = {"sequence": row[0], "row_hash": row[1]}
    return {"tables": counts, "migrations": migrations, "audit_head": head}


# --- PostgreSQL -----------------------------------------------------------------------------------------------

def _pg_params(database: dict) -> dict:
    params = {"dbname": database["NAME"], "user": database.get("USER"), "password": database.get("PASSWORD"),
              "host": database.get("HOST"), "port": str(database.get("PORT") or "")}
    sslmode = (database.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        params["sslmode"] = sslmode
    return {key: value for key, value in params.items() if value}


def _pg_env(database: dict) -> dict:
    names = {"dbname": "PGDATABASE", "user": "PGUSER", "password": "PGPASSWORD", "host": "PGHOST",
             "port": "PGPORT", "sslmode": "PGSSLMODE"}
    return {**os.environ, **{names[key]: value for key, value in _pg_params(database).items()}}


def _pg_connect(database: dict):
    import psycopg

    try:
        return psycopg.connect(**_pg_params(database))
    except psycopg.OperationalError as error:
        raise BackupError(f"cannot connect to PostgreSQL database {database['NAME']!r}: "
                          f"{str(error).strip().splitlines()[-1]}") from error


def _run_tool(arguments: list[str], database: dict) -> None:
    try:
        done = subprocess.run(arguments, env=_pg_env(database), capture_output=True, text=True)
    except FileNotFoundError as error:
        raise BackupError(f"{arguments[0]} was not found: install PostgreSQL's client programs "
                          "(Debian: postgresql-client) of the server's major version") from error
    if done.returncode != 0:
        raise BackupError(f"{arguments[0]} failed: {done.stderr.strip() or done.returncode}")


def _backup_postgresql(database: dict, target: Path) -> dict:
    """Dump the database with pg_dump in the snapshot where the row counts and the audit head are read."""
    import psycopg

    with _pg_connect(database) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            _run_tool(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}"], database)
            state = read_state(cursor, "postgresql")
        conn.rollback()
    state["server_version"] = server_version
    return state


def _postgresql_tables(database: dict) -> list[str]:
    with _pg_connect(database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return [row[0] for row in cursor.fetchall()]


def _restore_postgresql(database: dict, dump: Path) -> None:
    tables = _postgresql_tables(database)
    if tables:
        with _pg_connect(database) as conn:
            conn.execute("DROP TABLE IF EXISTS %s CASCADE" % ", ".join(_quote(table) for table in tables))
    # --clean drops what else the dump creates (the audit trail's trigger functions) when a forced restore replaces
    # an instance. Owners and grants name roles of the source server; `caravane db_roles --apply` sets them again.
    _run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
               "--single-transaction", f"--dbname={database['NAME']}", str(dump)], database)


# --- SQLite ---------------------------------------------------------------------------------------------------

def _backup_sqlite(database: dict, target: Path) -> dict:
    """Copy the database with SQLite's online backup API: one step, so the copy is one consistent snapshot."""
    source_path = Path(database["NAME"])
    if not source_path.is_file():
        raise BackupError(f"the SQLite database {source_path} does not exist")
    source = sqlite3.connect(source_path, timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # the copy stands alone: no -wal file beside it
        return read_state(copy.cursor(), "sqlite")
    finally:
        copy.close()
        source.close()


def _sqlite_tables(path: Path) -> int:
    if not path.exists():
        return 0
    with _closing_sqlite(path) as conn:
        query = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        return conn.execute(query).fetchone()[0]


@contextmanager
def _closing_sqlite(path: Path):
    conn = sqlite3.connect(path)
    try:
        yield conn
    finally:
        conn.close()


def _restore_sqlite(database: dict, copy: Path) -> None:
    """Put the backup's file in place of the database, through a file beside it and an atomic rename."""
    target = Path(database["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(copy, partial)
    for suffix in ("-wal", "-shm", "-journal"):  # a stale log beside the new file would be replayed into it
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(partial, target)


# --- Files ----------------------------------------------------------------------------------------------------

def media_root() -> Path:
    """The directory of the default file storage (only a file-system storage is backed up here)."""
    storage = storages["default"]
    if not isinstance(storage, FileSystemStorage):
        raise BackupError("the default file storage is not on the file system; back its files up with its own tools")
    return Path(storage.location)


def _media_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file())


def _copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    """Copy a file and return the SHA-256 and size of what was written."""
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as reading, target.open("wb") as writing:
        while chunk := reading.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writing.write(chunk)
    return digest.hexdigest(), size


def _entry(root: Path, path: Path, sha256: str | None = None, size: int | None = None) -> dict:
    return {"path": path.relative_to(root).as_posix(), "sha256": sha256 or sha256_of(path),
            "size": path.stat().st_size if size is None else size}


# --- Backup ---------------------------------------------------------------------------------------------------

def backup(destination: Path, *, database: dict, media_root: Path) -> dict:
    """Write a backup of ``database`` and the files under ``media_root`` to the new directory ``destination``.

    The directory is written beside its final place and renamed at the end, so a failed backup leaves nothing that
    looks complete. Returns the manifest.
    """
    destination = Path(destination)
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError(f"{destination} already exists and is not an empty directory; choose a new one")
    vendor = _vendor(database)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=destination.name + ".partial-", dir=destination.parent))
    try:
        database_file = partial / DATABASE_FILES[vendor]
        state = (_backup_sqlite if vendor == "sqlite" else _backup_postgresql)(database, database_file)
        files = [_entry(partial, database_file)]
        # Files after the database: every file a backed-up row names was stored before the row was committed.
        for path in _media_files(media_root):
            copy = partial / MEDIA / path.relative_to(media_root)
            files.append(_entry(partial, copy, *_copy_hashing(path, copy)))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "caravane_version": caravane.__version__,
            "database": {"vendor": vendor, "file": DATABASE_FILES[vendor],
                         **({"server_version": state.pop("server_version")} if "server_version" in state else {})},
            **state,
            "files": files,
        }
        manifest_path = partial / MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        sums = [(sha256_of(manifest_path), MANIFEST)] + [(entry["sha256"], entry["path"]) for entry in files]
        (partial / SUMS).write_text("".join(f"{digest}  {name}\n" for digest, name in sums), encoding="utf-8")
        if destination.exists():
            destination.rmdir()
        os.replace(partial, destination)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


# --- Restore --------------------------------------------------------------------------------------------------

def load_manifest(source: Path) -> dict:
    """The backup's manifest, checked against SHA256SUMS; BackupError when it is missing or damaged."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    if not source.is_dir():
        raise BackupError(f"{source} is not a backup directory (a backup is a directory with {MANIFEST})")
    manifest_path, sums_path = source / MANIFEST, source / SUMS
    for path in (manifest_path, sums_path):
        if not path.is_file():
            raise BackupError(f"{source} is not a complete backup: {path.name} is missing")
    sums = {}
    for line in sums_path.read_text(encoding="utf-8", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        sums[name] = digest
    if sums.get(MANIFEST) != sha256_of(manifest_path):
        raise BackupError(f"{manifest_path} is corrupt: its SHA-256 is not the one {SUMS} records")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError("not a Caravane backup")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format version {manifest.get('format_version')} is not {FORMAT_VERSION}")
        entries = {entry["path"]: (entry["sha256"], int(entry["size"])) for entry in manifest["files"]}
        vendor = manifest["database"]["vendor"]
        if DATABASE_FILES.get(vendor) != manifest["database"]["file"] or manifest["database"]["file"] not in entries:
            raise ValueError(f"no database file for vendor {vendor!r}")
        if not isinstance(manifest["tables"], dict) or not isinstance(manifest["audit_head"]["sequence"], int):
            raise ValueError("the row counts or the audit head are missing")
        for name in entries:
            # A name that climbs out of the backup would write outside the media directory on restore.
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise ValueError(f"file name {name!r} leaves the backup directory")
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{manifest_path} is not a usable manifest: {error}") from error
    if any(sums.get(path) != digest for path, (digest, _size) in entries.items()):
        raise BackupError(f"{manifest_path} and {SUMS} disagree about the files' hashes")
    return manifest


def verify_files(source: Path, manifest: dict) -> list[str]:
    """Every file the manifest lists is there with its size and SHA-256, and no other: the problems found."""
    source = Path(source)
    listed = {entry["path"]: entry for entry in manifest["files"]}
    problems = []
    for name, entry in listed.items():
        path = source / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.stat().st_size != entry["size"]:
            problems.append(f"{name}: {path.stat().st_size} bytes, the manifest says {entry['size']}")
        elif sha256_of(path) != entry["sha256"]:
            problems.append(f"{name}: its SHA-256 is not the one the manifest records")
    present = {path.relative_to(source).as_posix() for path in source.rglob("*") if path.is_file()}
    for name in sorted(present - set(listed) - {MANIFEST, SUMS}):
        problems.append(f"{name}: not in the manifest")
    return problems


def target_contents(database: dict, media_root: Path) -> list[str]:
    """What the restore target already holds (tables, files); empty when it is fresh."""
    vendor = _vendor(database)
    tables = _sqlite_tables(Path(database["NAME"])) if vendor == "sqlite" else len(_postgresql_tables(database))
    found = []
    if tables:
        found.append(f"the database has {tables} table(s)")
    files = len(_media_files(media_root))
    if files:
        found.append(f"{media_root} holds {files} file(s)")
    return found


def _restore_media(source: Path, manifest: dict, media_root: Path) -> None:
    """Put the backup's files in place of the media directory, through a directory beside it."""
    media_root = Path(media_root)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=media_root.name + ".restoring-", dir=media_root.parent))
    prefix = MEDIA + "/"
    for entry in manifest["files"]:
        if entry["path"].startswith(prefix):
            target = incoming / entry["path"][len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / entry["path"], target)
    if media_root.exists():
        replaced = Path(tempfile.mkdtemp(prefix=media_root.name + ".replaced-", dir=media_root.parent))
        os.replace(media_root, replaced / media_root.name)
        os.replace(incoming, media_root)
        shutil.rmtree(replaced)
    else:
        os.replace(incoming, media_root)


@contextmanager
def temporary_connection(database: dict, alias: str = CHECK_ALIAS):
    """A Django connection to ``database`` under ``alias`` in this thread, so querysets can use it; yields the alias.

    It is not added to the configured databases: it exists only while the block runs, and without a pool.
    """
    options = {key: value for key, value in (database.get("OPTIONS") or {}).items() if key != "pool"}
    wrapper = load_backend(database["ENGINE"]).DatabaseWrapper({**database, "OPTIONS": options}, alias)
    connections[alias] = wrapper
    try:
        yield alias
    finally:
        wrapper.close()
        del connections[alias]


def check_restored(database: dict, media_root: Path, manifest: dict) -> RestoreReport:
    """Compare the restored database and files with the manifest and verify the audit chain up to its head."""
    report = RestoreReport()
    with temporary_connection(database) as alias:
        connection = connections[alias]
        with connection.cursor() as cursor:
            state = read_state(cursor, manifest["database"]["vendor"])
        expected = manifest["tables"]
        for table in sorted(set(expected) | set(state["tables"])):
            want, got = expected.get(table), state["tables"].get(table)
            if want != got:
                report.problems.append(f"table {table}: {got} rows restored, the backup holds {want}")
        report.tables, report.rows = len(state["tables"]), sum(state["tables"].values())
        head = manifest["audit_head"]
        if state["audit_head"] != head:
            report.problems.append(f"audit head is {state['audit_head']}, the backup recorded {head}")
        anchor = Anchor(head["sequence"], head["row_hash"]) if head["sequence"] else None
        check = ChainCheck(locate=stored_locator(AuditEvent, alias), anchor=anchor)
        faults = list(check.faults(stored_links(AuditEvent, using=alias)))
        head_text = f"head {check.head.sequence} {check.head.row_hash}" if check.head else "no rows"
        if faults:
            report.problems.extend(f"audit {fault.kind}: {fault.message}" for fault in faults[:20])
            report.audit = f"audit trail BROKEN: {len(faults)} fault(s) in {check.rows_checked} rows; {head_text}"
        else:
            report.audit = f"audit trail intact: {check.rows_checked} rows verified; {head_text}"
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            report.notes.append(f"{len(pending)} migration(s) of this version are not applied yet: "
                                "run `caravane migrate`")
        unknown = set(state["migrations"]) - {f"{app}.{name}" for app, name in executor.loader.disk_migrations}
        if unknown:
            report.notes.append(f"{len(unknown)} migration(s) in the backup are unknown to this version "
                                f"({caravane.__version__}); the backup was made by {manifest['caravane_version']}")
    prefix = MEDIA + "/"
    for entry in manifest["files"]:
        if entry["path"].startswith(prefix):
            path = Path(media_root) / entry["path"][len(prefix):]
            if not path.is_file() or sha256_of(path) != entry["sha256"]:
                report.problems.append(f"restored file {entry['path']} does not match the backup")
            else:
                report.files += 1
    return report


def restore(source: Path, *, database: dict, media_root: Path, force: bool = False,
            before_change: Callable[[], None] | None = None) -> RestoreReport:
    """Restore a backup into ``database`` and ``media_root`` and check the result.

    Nothing is changed unless the manifest and every file's hash verify, the database vendor matches and the
    target is empty (or ``force``). ``before_change`` runs just before the first change (to close connections).
    """
    source = Path(source)
    manifest = load_manifest(source)
    problems = verify_files(source, manifest)
    if problems:
        raise BackupError(f"the backup at {source} is damaged; nothing was restored:\n- " + "\n- ".join(problems))
    vendor = _vendor(database)
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(f"the backup holds a {manifest['database']['vendor']} database and the target is "
                          f"{vendor}; restore it into a {manifest['database']['vendor']} database")
    found = target_contents(database, media_root)
    if found and not force:
        raise BackupError("the target is not empty (" + "; ".join(found) + "); nothing was restored. "
                          "Restore into a fresh instance, or pass --force to replace what is there")
    if before_change:
        before_change()
    dump = source / manifest["database"]["file"]
    (_restore_sqlite if vendor == "sqlite" else _restore_postgresql)(database, dump)
    _restore_media(source, manifest, media_root)
    return check_restored(database, media_root, manifest)
