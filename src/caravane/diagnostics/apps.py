"""Diagnostic recordings: ECGs (WFDB, DICOM waveform, print-outs) and examination images, imported and viewed."""
from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    name = "caravane.diagnostics"
    label = "diagnostics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from caravane.care.chart_sections import register_chart_section
        from caravane.core.panels import register_panel
        from caravane.diagnostics import selectors

        # ECGs and photographs are part of the patient's record, and are added where the patient is seen.
        register_chart_section("diagnostics_ecg", selectors.chart_ecg_entries, "diagnostics/_chart_ecg.html")
        register_chart_section("diagnostics_image", selectors.chart_image_entries, "diagnostics/_chart_image.html")
        register_panel("care.visit", "diagnostics", selectors.visit_panel, "diagnostics/_panel.html")
        register_panel("telemed.act", "diagnostics", selectors.act_panel, "diagnostics/_panel.html")
        register_panel("rooms.room", "live_stream", selectors.live_panel, "diagnostics/_live.html")
