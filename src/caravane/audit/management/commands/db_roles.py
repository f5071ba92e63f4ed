"""`caravane db_roles`: give the application's PostgreSQL role what it needs and nothing that could erase the audit trail.

Run it as the role that owns the schema (the one migrations run as), after each `migrate`; see
docs/deployment-database.md. It prints the SQL, and with --apply runs it and checks the result.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.recorder import MigrationRecorder

from caravane.audit.models import AuditEvent

# Privileges on the audit table that would let the application change or erase the trail.
AUDIT_TABLE_FORBIDDEN = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


def grant_statements(connection, role: str, schema: str, revoke_schema_create: bool) -> list[str]:
    """The SQL that gives ``role`` the application's privileges in ``schema``."""
    quote = connection.ops.quote_name
    role, schema = quote(role), quote(schema)
    audit, migrations = quote(AuditEvent._meta.db_table), quote(MigrationRecorder.Migration._meta.db_table)
    statements = [f"GRANT USAGE ON SCHEMA {schema} TO {role};"]
    if revoke_schema_create:
        statements.append(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC, {role};")
    return statements + [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role};",
        # The audit trail: read and append only. The migration history: read only.
        f"REVOKE ALL ON {audit}, {migrations} FROM PUBLIC, {role};",
        f"GRANT SELECT, INSERT ON {audit} TO {role};",
        f"GRANT SELECT ON {migrations} TO {role};",
        # Tables and sequences that later migrations create (as this owner) get the same grants.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role};",
    ]


def role_problems(cursor, role: str, schema: str) -> list[str]:
    """What ``role`` could do that would let it erase or bypass the audit trail."""
    audit = f"{schema}.{AuditEvent._meta.db_table}"
    problems = []
    cursor.execute("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = %s", [role])
    if any(cursor.fetchone()):
        problems.append(f"{role} is a superuser, may create roles or bypasses row security")
    cursor.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s", [role])
    owned = cursor.fetchone()[0]
    if owned:
        problems.append(f"{role} owns {owned} tables, indexes or sequences (an owner can truncate, alter or "
                        f"disable triggers): REASSIGN OWNED BY {role} TO the owner role")
    for privilege in AUDIT_TABLE_FORBIDDEN:
        cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, audit, privilege])
        if cursor.fetchone()[0]:
            problems.append(f"{role} has {privilege} on {audit}")
    for privilege in ("SELECT", "INSERT"):
        cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, audit, privilege])
        if not cursor.fetchone()[0]:
            problems.append(f"{role} lacks {privilege} on {audit}, which the application needs")
    cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema])
    if cursor.fetchone()[0]:
        problems.append(f"{role} may create objects in schema {schema}")
    return problems


class Command(BaseCommand):
    help = ("Print (or with --apply, run and check) the grants for the application's PostgreSQL role: "
            "read and write on the application's tables, only read and insert on the audit trail, owner of nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--app-role", default="caravane_app", help="The role the application connects as")
        parser.add_argument("--apply", action="store_true", help="Run the statements, then check the role")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default)")

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError("Database roles apply to PostgreSQL only; this database is %s." % connection.vendor)
        role = options["app_role"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_schema()")
            owner, schema = cursor.fetchone()
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise CommandError(f"Role {role} does not exist: create it first "
                                   f"(CREATE ROLE {role} LOGIN PASSWORD '...'), then run this again.")
            if role == owner:
                raise CommandError(f"Run this as the owner role (the one migrations run as), not as {role}.")
            cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema])
            revoke_schema_create = cursor.fetchone()[0]
        statements = grant_statements(connection, role, schema, revoke_schema_create)
        self.stdout.write("\n".join(statements))
        if not options["apply"]:
            return
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            problems = role_problems(cursor, role, schema)
        if problems:
            raise CommandError("Grants applied, but the role can still erase the audit trail:\n- "
                               + "\n- ".join(problems))
        self.stdout.write(self.style.SUCCESS(
            f"{role} may read and write the application's tables and only read and insert audit rows; "
            f"it owns nothing and cannot truncate, alter or disable triggers."))
