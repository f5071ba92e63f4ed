from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "caravane.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from caravane.accounts.scope import compute_scope, forget_assignments
        from caravane.core.access import register_scope_resolver
        from caravane.network.models import Assignment

        register_scope_resolver(compute_scope)
        for signal in (post_save, post_delete):
            signal.connect(forget_assignments, sender=Assignment, dispatch_uid=f"scope-{signal is post_save}")
