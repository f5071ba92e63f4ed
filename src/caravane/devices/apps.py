from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "caravane.devices"
    label = "devices"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from caravane.core.panels import register_panel
        from caravane.devices import jobs
        from caravane.devices.views import visit_panel_context
        from caravane.tasks.registry import register_periodic

        # Readings from the site's devices wait on the visit page for the nurse to confirm them.
        register_panel("care.visit.vitals", "device_readings", visit_panel_context, "devices/_visit_panel.html")
        register_periodic("devices.check_missed_measurements", jobs.check_missed_measurements,
                          every_seconds=jobs.MISSED_CHECK_SECONDS)
