"""MedicationRequest: a prescription line of a visit, with one dosage instruction."""

from __future__ import annotations

from django.db.models.functions import Coalesce

from caravane.care import dosage
from caravane.care.models import MedicationRequest
from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register, withdrawn_history

# Our statuses are FHIR's own MedicationRequest.status codes.
STATUS = {MedicationRequest.Status.ACTIVE: "active", MedicationRequest.Status.CANCELLED: "cancelled",
          MedicationRequest.Status.ENTERED_IN_ERROR: "entered-in-error"}


@register
class MedicationRequestResource(Resource):
    type = "MedicationRequest"
    site_paths = ("encounter__site",)
    model = MedicationRequest
    perm = Perm.VIEW_CHART
    # The pharmacist reads the prescriptions of the sites they dispense at (the dispensing page's reach).
    also_read_with = (Perm.DISPENSE,)
    read_action, search_action = "care.view_chart", "care.view_chart"
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient"),
        "encounter": search.reference("encounter", "Encounter", "The visit it was prescribed in"),
        "status": search.token("status", "active, cancelled or entered-in-error"),
    }
    includes = {"MedicationRequest:patient": Include("Patient", "patient_id")}

    versioned = True

    @classmethod
    def last_changed(cls, line):
        return line.retracted_at or line.created_at

    @classmethod
    def last_updated(cls):
        return Coalesce("retracted_at", "created_at")

    @classmethod
    def history(cls, line, ctx) -> list[dict]:
        return withdrawn_history(cls, line, ctx, "status", "active")

    @classmethod
    def render(cls, line: MedicationRequest, ctx) -> dict:
        dose = None
        if line.dose_value is not None and line.dose_unit:
            dose = [{"doseQuantity": {"value": float(line.dose_value), "unit": line.dose_unit}}]
        text = " ".join(filter(None, [dosage.dose_text(line), dosage.timing_text(line), line.instructions]))
        return clean({
            "status": STATUS[line.status], "intent": "order",
            "medicationCodeableConcept": {"text": line.medication},
            "subject": reference("Patient", line.patient_id), "encounter": reference("Encounter", line.encounter_id),
            "authoredOn": line.created_at.isoformat(), "requester": reference("Practitioner", line.recorder_id),
            "dosageInstruction": [{"text": str(text), "route": {"text": line.get_route_display()},
                                   "doseAndRate": dose}],
            "dispenseRequest": {"expectedSupplyDuration": {"value": line.duration_days, "unit": "days",
                                                           "system": systems.UCUM, "code": "d"}},
            "priorPrescription": reference("MedicationRequest", line.prior_prescription_id),
        })
