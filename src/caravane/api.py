"""The JSON API: one NinjaAPI, with a router per app; OpenAPI at /api/openapi.json, docs at /api/docs.

Callers authenticate with the browser session (unsafe methods need CSRF) or a bearer token;
everything they read is narrowed to their scope, and every failure is a JSON ``Error`` (see CaravaneAPI).
"""

import inspect
from functools import wraps

from caravane.accounts.api import router as tokens_router
from caravane.accounts.api_auth import API_AUTH
from caravane.care.api import router as care_router
from caravane.core.api import CaravaneAPI
from caravane.devices.api import router as devices_router
from caravane.diagnostics.api import router as diagnostics_router
from caravane.geo.api import router as geo_router
from caravane.network.api import router as network_router
from caravane.patients.api import router as patients_router
from caravane.pharmacy.api import router as pharmacy_router
from caravane.planning.api import router as planning_router
from caravane.rooms.api import router as rooms_router
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
api.add_router("/rooms", rooms_router)
api.add_router("/devices", devices_router)
api.add_router("/pharmacy", pharmacy_router)
api.add_router("/diagnostics", diagnostics_router)
api.add_router("", network_router)



def _declare_gate(run):
    """Wrap an operation so that its request carries its gate rule (``caravane.audit.gate.before_input``): the
    authentication asks it as soon as the caller is known, before the body and the query are read."""
    operation = inspect.unwrap(run).__self__
    view, rule = operation.view_func, None
    while view is not None and rule is None:  # an operation's decorators may have wrapped the handler
        rule, view = getattr(view, "gate_rule", None), getattr(view, "__wrapped__", None)
    if rule is None:
        return run

    @wraps(run)
    def declared(request, *args, **kwargs):
        request.gate_rule, request.gate_path = rule, kwargs
        return run(request, *args, **kwargs)

    return declared


api.add_decorator(_declare_gate, mode="view")
