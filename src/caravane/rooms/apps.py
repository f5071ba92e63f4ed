from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "caravane.rooms"
    label = "rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from caravane.rooms.selectors import report_call_summary
        from caravane.telemed.call_summaries import register_call_summary

        # The act's report names who took part in its call and when: telemed asks, rooms knows.
        register_call_summary(report_call_summary)
