from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "caravane.core"
    label = "core"

    def ready(self):
        from caravane.core import health, probes

        health.register_readiness_check("database", probes.database_answers)
        health.register_readiness_check("migrations", probes.migrations_applied)
        health.register_readiness_check("cache", probes.cache_answers)
        health.register_readiness_check("channel_layer", probes.channel_layer_answers)
