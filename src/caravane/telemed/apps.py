from django.apps import AppConfig


class TelemedConfig(AppConfig):
    name = "caravane.telemed"
    label = "telemed"
    default_auto_field = "django.db.models.BigAutoField"
