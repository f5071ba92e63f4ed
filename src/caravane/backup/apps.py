from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "caravane.backup"
    label = "backup"
