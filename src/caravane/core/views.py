"""Probes for orchestrators: liveness and readiness."""

from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.http import require_GET

import caravane


@login_not_required
@require_GET
def healthz(request):
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok", "version": caravane.__version__})


@login_not_required
@require_GET
def readyz(request):
    """The database answers and every migration is applied."""
    connection = connections[DEFAULT_DB_ALIAS]
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # report, do not crash: the probe's answer is the diagnosis
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    checks["migrations"] = "ok" if not pending else f"{len(pending)} pending"
    ready = not pending
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
