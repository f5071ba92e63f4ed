from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    name = "caravane.diagnostics"
    label = "diagnostics"
    default_auto_field = "django.db.models.BigAutoField"
