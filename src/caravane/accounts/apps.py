from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "caravane.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from caravane.accounts.scope import compute_scope
        from caravane.core.access import register_scope_resolver

        register_scope_resolver(compute_scope)
