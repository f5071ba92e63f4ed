"""ECGs and photographs in the administrators' site: read-only (the records are append-only)."""

from django.contrib import admin

from caravane.diagnostics.models import EcgRecording, ExaminationImage
from caravane.network.admin import ReadOnlyAdmin


@admin.register(EcgRecording)
class EcgRecordingAdmin(ReadOnlyAdmin):
    list_display = ("effective_at", "patient", "source", "sampling_rate", "sample_count", "heart_rate")
    list_filter = ("source",)
    exclude = ("samples", "r_peaks")


@admin.register(ExaminationImage)
class ExaminationImageAdmin(ReadOnlyAdmin):
    list_display = ("effective_at", "patient", "body_site", "source_format", "width", "height")
    list_filter = ("body_site", "source_format")
