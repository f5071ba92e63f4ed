"""Probes for orchestrators: liveness and readiness."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.http import require_GET

import caravane
from caravane.core.health import readiness


@login_not_required
@require_GET
def healthz(request):
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok", "version": caravane.__version__})


@login_not_required
@require_GET
def readyz(request):
    """Every registered readiness check passes: the database answers, migrations are applied, and so on."""
    ready, checks = readiness()
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
