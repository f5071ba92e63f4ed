"""The JSON API: one NinjaAPI, with a router per app; OpenAPI at /api/openapi.json, docs at /api/docs.

Callers authenticate with the browser session (unsafe methods need CSRF) or a bearer token;
everything they read is narrowed to their scope, and every failure is a JSON ``Error`` (see CaravaneAPI).
"""

from caravane.accounts.api import router as tokens_router
from caravane.accounts.api_auth import API_AUTH
from caravane.audit.gate import check_before_input
from caravane.care.api import router as care_router
from caravane.core.api import CaravaneAPI
from caravane.geo.api import router as geo_router
from caravane.network.api import router as network_router
from caravane.patients.api import router as patients_router
from caravane.planning.api import router as planning_router
from caravane.telemed.api import router as telemed_router

api = CaravaneAPI(
    title="Caravane API",
    version="1",
    description="Rural telemedicine network: geography, sites, staff and clinical records, scoped to the caller.",
    auth=API_AUTH,
    urls_namespace="api",
    # Swagger UI is served from django-ninja's own static files ("ninja" is an installed app): no CDN.
    docs_url="/docs",
)

api.add_router("/geo", geo_router)
api.add_router("/tokens", tokens_router)
api.add_router("/patients", patients_router)
api.add_router("/care", care_router)
api.add_router("/planning", planning_router)
api.add_router("/telemed", telemed_router)
api.add_router("", network_router)


def _gate_before_input(operation) -> None:
    """Ask the operation's gate (``caravane.audit.gate.before_input``) right after authentication, before the
    body and the query are read, answering a refusal as every API error is answered."""
    rule = getattr(operation.view_func, "gate_rule", None)
    if rule is None:
        return
    authenticate = operation._run_checks

    def checks(request):
        error = authenticate(request)
        if error is not None:
            return error
        try:
            check_before_input(request, rule, request.resolver_match.kwargs)
        except Exception as exc:  # PermissionDenied, Http404: the API's own handlers answer them
            return operation.api.on_exception(request, exc)
        return None

    operation._run_checks = checks


for _prefix, _router in api._routers:
    for _path_view in _router.path_operations.values():
        for _operation in _path_view.operations:
            _gate_before_input(_operation)
