"""Admin views of patients and consents: read-mostly, since changes go through the audited actions."""

from django.contrib import admin

from caravane.network.admin import ReadOnlyAdmin
from caravane.patients.models import Consent, ConsentRevocation, Patient, PatientMerge


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ("record_number", "family_name", "given_name", "family_name_ar", "given_name_ar", "gender",
                    "birth_date", "registration_site", "merged_into")
    search_fields = ("record_number", "family_name", "given_name", "national_id", "phone")
    list_filter = ("gender", "coverage_type")


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("patient", "method", "obtained_by", "obtained_at", "period_start", "period_end")


@admin.register(ConsentRevocation)
class ConsentRevocationAdmin(ReadOnlyAdmin):
    list_display = ("consent", "revoked_by", "revoked_on")


@admin.register(PatientMerge)
class PatientMergeAdmin(ReadOnlyAdmin):
    list_display = ("merged", "survivor", "performed_by", "created_at")
