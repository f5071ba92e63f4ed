"""Admin views of telemedicine acts: read-only (changes go through the audited actions), except service levels,
whose changes go through ``do_set_service_level`` and are audited."""

from django.contrib import admin

from caravane.network.admin import ReadOnlyAdmin
from caravane.telemed.actions import do_set_service_level
from caravane.telemed.models import (
    Appointment, Attachment, Communication, DiagnosticReport, ReportAmendment, ReportPrescription, ServiceLevel,
    ServiceRequest, Slot, StatusTransition, TechnicalIncident,
)


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ("requested_at", "kind", "specialty", "priority", "status", "requesting_site", "hub", "due_at")
    list_filter = ("kind", "priority", "status", "specialty")
    date_hierarchy = "requested_at"


@admin.register(StatusTransition)
class StatusTransitionAdmin(ReadOnlyAdmin):
    list_display = ("at", "act", "from_status", "to_status", "hub", "actor", "reason")
    list_filter = ("to_status",)


@admin.register(Communication)
class CommunicationAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "act", "sender", "category")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "act", "category", "filename", "content_type", "size", "sha256")


@admin.register(TechnicalIncident)
class TechnicalIncidentAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "act", "category", "reporter")
    list_filter = ("category",)


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = ("start", "end", "specialist", "hub", "specialty", "active")
    list_filter = ("specialty", "active")


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ("start", "act", "specialist", "status")
    list_filter = ("status",)


@admin.register(DiagnosticReport)
class DiagnosticReportAdmin(ReadOnlyAdmin):
    list_display = ("performed_at", "act", "author", "icd10_code", "signed_at")


@admin.register(ReportAmendment)
class ReportAmendmentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "report", "author", "reason")


@admin.register(ReportPrescription)
class ReportPrescriptionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "report", "position", "medication_request")


@admin.register(ServiceLevel)
class ServiceLevelAdmin(admin.ModelAdmin):
    list_display = ("priority", "answer_minutes", "expire_minutes")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        do_set_service_level(actor=request.user, priority=obj.priority, answer_minutes=obj.answer_minutes,
                             expire_minutes=obj.expire_minutes)
