from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "caravane.devices"
    label = "devices"
    default_auto_field = "django.db.models.BigAutoField"
