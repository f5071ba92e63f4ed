"""The JSON API: one NinjaAPI, with a router per app; OpenAPI at /api/openapi.json."""

from ninja import NinjaAPI

from caravane.accounts.api_auth import API_AUTH

api = NinjaAPI(
    title="Caravane API",
    version="1",
    description="Rural telemedicine network: geography, sites, staff and clinical records, scoped to the caller.",
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
)
