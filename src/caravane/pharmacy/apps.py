from django.apps import AppConfig


class PharmacyConfig(AppConfig):
    name = "caravane.pharmacy"
    label = "pharmacy"
    default_auto_field = "django.db.models.BigAutoField"
