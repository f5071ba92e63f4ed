"""Probes for orchestrators (liveness, readiness) and the Prometheus metrics."""

import hmac
import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

import caravane
from caravane.core.health import readiness
from caravane.core.metrics import exposition

# A request that passed through a proxy: its loopback address is the proxy's, not the client's.
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


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


def _from_loopback(request) -> bool:
    try:
        loopback = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False
    return loopback and not any(request.META.get(header) for header in FORWARDING_HEADERS)


@login_not_required
@require_GET
def metrics(request):
    """Every server process's metrics in Prometheus' text format: for a bearer of CARAVANE_METRICS_TOKEN, or, when
    none is set, for clients on this host only. No health data, and no audit row per scrape."""
    token = settings.CARAVANE_METRICS_TOKEN
    if token:
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _from_loopback(request):
        return HttpResponse("Metrics are served to this host only; set CARAVANE_METRICS_TOKEN to scrape from "
                            "elsewhere.\n", status=403, content_type="text/plain")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
