"""ECGs and photographs in the administrators' site: read-only (the records are append-only)."""

from django.contrib import admin

from caravane.diagnostics.models import EcgRecording, ExaminationImage


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EcgRecording)
class EcgRecordingAdmin(ReadOnly):
    list_display = ("effective_at", "patient", "source", "sampling_rate", "sample_count", "heart_rate")
    list_filter = ("source",)
    exclude = ("samples", "r_peaks")


@admin.register(ExaminationImage)
class ExaminationImageAdmin(ReadOnly):
    list_display = ("effective_at", "patient", "body_site", "source_format", "width", "height")
    list_filter = ("body_site", "source_format")
