"""On PostgreSQL the application's role appends audit rows but cannot erase, change or bypass the trail."""

import io
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from caravane.audit.actions import do_record_audit
from caravane.audit.models import AuditEvent

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="roles exist on PostgreSQL only")

# Created and dropped inside each test's transaction, so it never outlives the test.
APP_ROLE = "caravane_app_test"

ERASING_STATEMENTS = [
    "TRUNCATE audit_auditevent",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_change",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_auditevent_no_change ON audit_auditevent",
    "DROP TABLE audit_auditevent",
    "SET session_replication_role = replica",
    "UPDATE audit_auditevent SET action = 'tampered'",
    "DELETE FROM audit_auditevent",
    "CREATE TABLE audit_shadow (id integer)",
]


@pytest.fixture
def app_role(db):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
    out = io.StringIO()
    call_command("db_roles", "--app-role", APP_ROLE, "--apply", stdout=out)
    assert f"{APP_ROLE} may read and write the application's tables" in out.getvalue()
    return APP_ROLE


@contextmanager
def acting_as(role):
    """Run statements with ``role``'s privileges; an error rolls back to before the role was taken."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
        yield cursor
        cursor.execute("RESET ROLE")


@postgresql_only
def test_the_application_role_appends_audit_rows_and_works_on_other_tables(app_role, staff_factory):
    staff = staff_factory(role="nurse")
    first = do_record_audit(actor=staff.user, action="view", target=staff)
    with acting_as(app_role) as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == app_role
        staff.user.first_name = "Amina"
        staff.user.save()
        appended = do_record_audit(actor=staff.user, action="change", target=staff.user)
    assert (appended.sequence, appended.prev_hash) == (first.sequence + 1, first.row_hash)
    status = io.StringIO()
    call_command("audit", "verify", stdout=status)
    assert "Audit trail intact: 2 rows checked" in status.getvalue()


@postgresql_only
@pytest.mark.parametrize("statement", ERASING_STATEMENTS)
def test_the_application_role_cannot_erase_change_or_bypass_the_trail(app_role, staff_factory, statement):
    staff = staff_factory(role="nurse")
    do_record_audit(actor=staff.user, action="view", target=staff)
    with pytest.raises(DatabaseError, match="permission denied|must be owner"):
        with acting_as(app_role) as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.filter(action="view").count() == 1


@postgresql_only
def test_the_owner_can_delete_a_row_and_verify_reports_it(staff_factory):
    staff = staff_factory(role="nurse")
    for number in range(4):
        do_record_audit(actor=staff.user, action="view", target=("patients.patient", str(number)))
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_change")
        cursor.execute("DELETE FROM audit_auditevent WHERE sequence = 2")
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_no_change")
    out = io.StringIO()
    with pytest.raises(CommandError, match="BROKEN: 1 fault"):
        call_command("audit", "verify", stdout=out)
    assert "deleted: row 2 was deleted" in out.getvalue()


@postgresql_only
def test_db_roles_refuses_a_role_that_owns_tables(db):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
        cursor.execute("CREATE TABLE audit_leftover (id integer)")
        cursor.execute(f"ALTER TABLE audit_leftover OWNER TO {APP_ROLE}")
    with pytest.raises(CommandError, match=f"{APP_ROLE} owns 1 tables"):
        call_command("db_roles", "--app-role", APP_ROLE, "--apply", stdout=io.StringIO())


@postgresql_only
def test_db_roles_prints_the_grants_without_applying_them(db):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
    out = io.StringIO()
    call_command("db_roles", "--app-role", APP_ROLE, stdout=out)
    assert f'GRANT SELECT, INSERT ON "audit_auditevent" TO "{APP_ROLE}";' in out.getvalue()
    assert "ALTER DEFAULT PRIVILEGES" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, 'audit_auditevent', 'INSERT')", [APP_ROLE])
        assert cursor.fetchone()[0] is False
    with pytest.raises(CommandError, match="does not exist"):
        call_command("db_roles", "--app-role", "caravane_nobody", stdout=io.StringIO())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal is for databases without roles")
def test_db_roles_explains_that_sqlite_has_no_roles(db):
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("db_roles", stdout=io.StringIO())
