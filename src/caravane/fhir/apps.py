"""The FHIR R4 server at /fhir/R4/: a mapping of the application's models, one module per resource and operation."""
from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "caravane.fhir"
    label = "fhir"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registering the resource and operation modules is what the server (and its capability statement) serves.
        from caravane.fhir import operations, resources  # noqa: F401
