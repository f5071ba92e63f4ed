from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "caravane.planning"
    label = "planning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from caravane.planning import runner
        from caravane.tasks.registry import limit_queue

        # Planning runs take the machine's cores: a bounded number at once across the whole deployment.
        limit_queue(runner.QUEUE, settings.CARAVANE.planning_concurrency)
