"""Admin views of visits and clinical records: read-only, since changes go through the audited actions."""

from django.contrib import admin

from caravane.care.models import AllergyIntolerance, Amendment, Condition, Encounter, MedicationRequest, Observation
from caravane.network.admin import ReadOnlyAdmin


@admin.register(Encounter)
class EncounterAdmin(ReadOnlyAdmin):
    list_display = ("service_date", "site", "patient", "status", "priority", "coverage_status", "signed_at")
    list_filter = ("status", "priority", "service_date")
    date_hierarchy = "service_date"


@admin.register(Observation)
class ObservationAdmin(ReadOnlyAdmin):
    list_display = ("effective_at", "patient", "code", "display", "value", "unit", "interpretation")
    list_filter = ("code", "interpretation")


@admin.register(Condition)
class ConditionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "patient", "icd10_code", "icd10_label", "text", "verification_status")
    search_fields = ("icd10_code", "icd10_label", "text")


@admin.register(MedicationRequest)
class MedicationRequestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "patient", "medication", "dose_value", "dose_unit", "dose", "route", "timing",
                    "frequency", "duration_days", "status")


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "encounter", "author", "reason")


@admin.register(AllergyIntolerance)
class AllergyIntoleranceAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "patient", "code", "text", "criticality", "clinical_status", "verification_status")
    list_filter = ("clinical_status", "verification_status", "criticality")
