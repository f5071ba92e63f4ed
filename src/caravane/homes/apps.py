from django.apps import AppConfig


class HomesConfig(AppConfig):
    name = "caravane.homes"
    label = "homes"
    verbose_name = "Role homes"
