from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "caravane.demo"
    label = "demo"
