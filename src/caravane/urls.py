"""Top-level URL routes: each app brings its own."""

from django.contrib import admin
from django.urls import include, path, re_path

from caravane.api import api
from caravane.core import views as core_views
from caravane.core.api import api_not_found
from caravane.homes import views as homes_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),  # after the API's own routes: unknown addresses get a JSON 404
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("caravane.accounts.urls")),
    path("audit/", include("caravane.audit.urls")),
    path("patients/", include("caravane.patients.urls")),
    path("care/", include("caravane.care.urls")),
    path("planning/", include("caravane.planning.urls")),
    path("telemed/", include("caravane.telemed.urls")),
    path("rooms/", include("caravane.rooms.urls")),
    path("devices/", include("caravane.devices.urls")),
    path("diagnostics/", include("caravane.diagnostics.urls")),
    path("pharmacy/", include("caravane.pharmacy.urls")),
    path("fhir/R4/", include("caravane.fhir.urls")),
    path("home/", include("caravane.homes.urls")),
    path("", homes_views.home, name="home"),
    path("", include("caravane.network.urls")),
]
