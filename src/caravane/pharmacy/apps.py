"""Essential medicines: catalogue, stock ledger per site and unit, dispensing, replenishment and reports."""
from django.apps import AppConfig


class PharmacyConfig(AppConfig):
    name = "caravane.pharmacy"
    label = "pharmacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from caravane.care.chart_sections import register_chart_section
        from caravane.pharmacy.selectors import chart_entries

        # What was handed over is part of the patient's record, beside the prescription it served.
        register_chart_section("pharmacy_dispense", chart_entries, "pharmacy/_chart_dispense.html")
