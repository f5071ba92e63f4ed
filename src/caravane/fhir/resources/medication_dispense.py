"""MedicationDispense: medicine handed to a patient against a prescription line, with the lots it came from."""

from __future__ import annotations

from django.db.models import F, Prefetch

from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.pharmacy.models import MedicationDispense, StockMovement

# Our statuses are FHIR's own MedicationDispense.status codes (a dispense is recorded once handed over).
STATUS = {MedicationDispense.Status.COMPLETED: "completed"}


def _quantity(value: int, unit: str) -> dict:
    # A unit of issue is a UCUM annotation ({capsule}): a count of the unit named.
    return {"value": value, "unit": unit, "system": systems.UCUM, "code": f"{{{unit}}}"}


@register
class MedicationDispenseResource(Resource):
    type = "MedicationDispense"
    model = MedicationDispense
    perm = Perm.VIEW_CHART
    # The pharmacist reads what was dispensed at the sites whose stock they hold (the pharmacy pages' reach).
    also_read_with = (Perm.DISPENSE,)
    site_paths = ("site",)
    read_action, search_action = "care.view_chart", "care.view_chart"
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient"),
        "context": search.reference("encounter", "Encounter", "The visit it was dispensed in"),
        "prescription": search.reference("prescription", "MedicationRequest", "The prescription line"),
        "whenhandedover": search.date("handed_over_at", "When it was handed over"),
        "status": search.token("status", "completed", codes={code: [value] for value, code in STATUS.items()}),
    }
    includes = {"MedicationDispense:patient": Include("Patient", "patient_id"),
                "MedicationDispense:prescription": Include("MedicationRequest", "prescription_id")}

    versioned = True

    @classmethod
    def last_changed(cls, dispense):
        return dispense.created_at  # never changed

    @classmethod
    def last_updated(cls):
        return F("created_at")

    @classmethod
    def queryset(cls):
        lots = StockMovement.objects.filter(kind=StockMovement.Kind.DISPENSE).select_related("lot").order_by("pk")
        return MedicationDispense.objects.select_related("product__medicine").prefetch_related(
            Prefetch("movements", queryset=lots, to_attr="lots_taken"))

    @classmethod
    def render(cls, dispense: MedicationDispense, ctx) -> dict:
        product = dispense.product
        atc = product.atc_code or product.medicine.atc_code
        unit = product.unit
        return clean({
            "extension": [{"url": systems.DISPENSED_LOT, "extension": [
                {"url": "lotNumber", "valueString": move.lot.batch_number},
                {"url": "expirationDate", "valueDate": move.lot.expiry_date.isoformat()},
                {"url": "quantity", "valueQuantity": _quantity(-move.quantity, unit)},
            ]} for move in dispense.lots_taken],
            "status": STATUS[dispense.status],
            "medicationCodeableConcept": {
                "coding": [{"system": systems.ATC, "code": atc, "display": product.medicine.inn}] if atc else [],
                "text": " ".join(filter(None, [product.medicine.inn, product.strength, product.get_form_display()])),
            },
            "subject": reference("Patient", dispense.patient_id),
            "context": reference("Encounter", dispense.encounter_id),
            "performer": [{"actor": reference("Practitioner", dispense.dispenser_id)}],
            "location": reference("Location", dispense.site_id),
            "authorizingPrescription": [reference("MedicationRequest", dispense.prescription_id)],
            "quantity": _quantity(dispense.quantity, unit),
            "whenHandedOver": dispense.handed_over_at.isoformat(),
        })
