"""Condition: a diagnosis made during a visit, coded in ICD-10."""

from __future__ import annotations

from django.db.models.functions import Coalesce

from caravane.care.models import Condition
from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register, withdrawn_history

# Our verification statuses are FHIR's own codes; a withdrawn diagnosis has no clinical status (FHIR con-5).
VERIFICATION = {Condition.Verification.CONFIRMED: "confirmed",
                Condition.Verification.ENTERED_IN_ERROR: "entered-in-error"}


@register
class ConditionResource(Resource):
    type = "Condition"
    site_paths = ("encounter__site",)
    model = Condition
    perm = Perm.VIEW_CHART
    read_action, search_action = "care.view_chart", "care.view_chart"
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient"),
        "encounter": search.reference("encounter", "Encounter", "The visit it was made in"),
        "code": search.token("icd10_code", "ICD-10 code", system=systems.ICD10),
        "verification-status": search.token("verification_status", "confirmed or entered-in-error"),
    }
    includes = {"Condition:patient": Include("Patient", "patient_id"),
                "Condition:encounter": Include("Encounter", "encounter_id")}

    versioned = True

    @classmethod
    def last_changed(cls, condition):
        return condition.retracted_at or condition.created_at

    @classmethod
    def last_updated(cls):
        return Coalesce("retracted_at", "created_at")

    @classmethod
    def history(cls, condition, ctx) -> list[dict]:
        return withdrawn_history(cls, condition, ctx, "verificationStatus",
                                 systems.coding(systems.CONDITION_VERIFICATION, "confirmed"))

    @classmethod
    def render(cls, condition: Condition, ctx) -> dict:
        code = {"coding": [{"system": systems.ICD10, "code": condition.icd10_code,
                            "display": condition.icd10_label}] if condition.icd10_code else [],
                "text": condition.text or condition.icd10_label}
        confirmed = condition.verification_status == Condition.Verification.CONFIRMED
        return clean({
            "clinicalStatus": systems.coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")
            if confirmed else None,
            "verificationStatus": systems.coding(systems.CONDITION_VERIFICATION,
                                                 VERIFICATION[condition.verification_status]),
            "category": [systems.coding(systems.CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")],
            "code": code, "subject": reference("Patient", condition.patient_id),
            "encounter": reference("Encounter", condition.encounter_id),
            "recordedDate": condition.created_at.isoformat(), "recorder": reference("Practitioner", condition.recorder_id),
        })
