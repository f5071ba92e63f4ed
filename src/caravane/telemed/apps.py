from django.apps import AppConfig


class TelemedConfig(AppConfig):
    name = "caravane.telemed"
    label = "telemed"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

        from caravane.care.chart_sections import register_chart_section
        from caravane.tasks.registry import register_periodic
        from caravane.telemed import jobs
        from caravane.telemed.selectors import chart_timeline_entries

        # Signed reports are part of the patient's record (decree 2-18-378: every act reported in the record).
        register_chart_section("telemed_report", chart_timeline_entries, "telemed/_chart_report.html")
        # Overdue acts expire without cron: the workers run this once per interval, however many they are.
        register_periodic("telemed.expire_overdue", jobs.expire_overdue,
                          every_seconds=settings.CARAVANE.telemed_expire_seconds)
