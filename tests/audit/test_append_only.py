import pytest
from django.db import DatabaseError, connection, transaction

from caravane.audit.actions import do_record_audit
from caravane.audit.models import AppendOnlyError, AuditEvent


@pytest.fixture
def event(db, staff_factory):
    staff = staff_factory(role="nurse")
    return do_record_audit(actor=staff.user, action="view", target=staff)


def test_audit_rows_cannot_be_changed_through_the_app(event):
    event.action = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_database_refuses_updates_to_audit_rows(event):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET action = 'tampered' WHERE id = %s", [event.pk.hex if connection.vendor == "sqlite" else event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_audit_row_records_who_what_and_role(event):
    assert event.role == "nurse"
    assert event.object_type == "network.staffmember"
    assert event.outcome == "allowed"
