from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "caravane.planning"
    label = "planning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from caravane.pharmacy.tour_plans import register_planned_days
        from caravane.planning import runner
        from caravane.planning.selectors import planned_stop_days
        from caravane.tasks.registry import limit_queue

        # Planning runs take the machine's cores: a bounded number at once across the whole deployment.
        limit_queue(runner.QUEUE, settings.CARAVANE.planning_concurrency)
        # The load list before a tour counts the unit's planned stop days (pharmacy sits below planning).
        register_planned_days("planning", planned_stop_days)
