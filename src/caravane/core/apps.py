from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "caravane.core"
    label = "core"
