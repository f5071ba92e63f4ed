"""The FHIR R4 server at /fhir/R4/: a mapping of the application's models, one module per resource and operation."""
from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "caravane.fhir"
    label = "fhir"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registering the resource and operation modules is what the server (and its capability statement) serves.
        from caravane.fhir import operations, resources  # noqa: F401

        from caravane.accounts.lane import bearer_read
        from caravane.core import lane
        from caravane.fhir.views import read_on_lane

        lane.register(r"/fhir/R4/(?P<path>.+)", "fhir/R4/<path:path>", bearer_read(read_on_lane))
