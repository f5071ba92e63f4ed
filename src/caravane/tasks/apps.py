from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "caravane.tasks"
    label = "tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from caravane.core.health import register_readiness_check
        from caravane.core.metrics import register_collector
        from caravane.tasks import jobs, monitoring
        from caravane.tasks.registry import register_periodic

        register_readiness_check("task_queue", monitoring.queue_ready)
        register_collector(monitoring.QueueCollector())
        register_periodic("tasks.prune", jobs.prune, every_seconds=jobs.PRUNE_EVERY_SECONDS)
