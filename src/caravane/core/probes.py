"""The core readiness checks: the default database answers and has every migration applied."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def database_answers() -> str | None:
    """None when the default database answers a query, else why not."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"unreachable: {exc.__class__.__name__}"
    return None


def migrations_applied() -> str | None:
    """None when no migration is pending, else how many are."""
    if database_answers() is not None:
        return "unknown: database unreachable"
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return f"{len(pending)} pending" if pending else None
