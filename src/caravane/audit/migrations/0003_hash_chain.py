"""Chain the audit rows: sequence numbers and hashes, existing rows chained in the order they were written.

Filling the new columns updates rows, which the append-only triggers refuse: they are set aside
for the length of this migration (run by the owner of the table) and put back at its end. On
SQLite they are dropped and created again, also because rebuilding the table drops them.
"""

from importlib import import_module

from django.db import migrations, models
from django.db.models import Q

from caravane.audit.chain import GENESIS, canonical_content, link_hash

append_only = import_module("caravane.audit.migrations.0002_append_only_triggers")

CHUNK_SIZE = 1000


def suspend_append_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(append_only.SQLITE_BACKWARD)
    elif vendor == "postgresql":
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_change;")


def restore_append_only(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(append_only.SQLITE_BACKWARD)
        schema_editor.execute(append_only.SQLITE_FORWARD)
    elif vendor == "postgresql":
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_no_change;")


def chain_existing_rows(apps, schema_editor):
    """Number and hash the rows already written, oldest first (ids are time-ordered UUIDv7s)."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    rows = AuditEvent._base_manager.using(schema_editor.connection.alias).order_by("at", "id")
    sequence, prev_hash, last = 0, GENESIS, None
    while True:
        remaining = rows.filter(Q(at__gt=last.at) | Q(at=last.at, id__gt=last.id)) if last else rows
        batch = list(remaining[:CHUNK_SIZE])
        if not batch:
            return
        for event in batch:
            sequence += 1
            event.sequence, event.prev_hash = sequence, prev_hash
            event.row_hash = prev_hash = link_hash(prev_hash, canonical_content(event))
        AuditEvent._base_manager.using(schema_editor.connection.alias).bulk_update(
            batch, ["sequence", "prev_hash", "row_hash"])
        last = batch[-1]


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.RunPython(suspend_append_only, restore_append_only),
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(db_index=True, editable=False),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.RunPython(restore_append_only, suspend_append_only),
    ]
