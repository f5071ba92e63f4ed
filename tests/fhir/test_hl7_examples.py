"""The HL7 R4 examples that concern what we record (a Patient, Encounters, vital-sign Observations), sent as a
client of this network would send them (references pointed at our records, measured now): accepted where our
workflows allow, otherwise refused with an OperationOutcome that says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import timezone

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fhir" / "r4_core_examples"

# Example -> (answer when strict, answer with Prefer: handling=lenient, words the refusal must say).
EXPECTED = {
    "Patient-example.json": (422, 422, "deceasedBoolean"),
    "Encounter-example.json": (422, 422, "arrived"),
    "Encounter-home.json": (422, 422, "arrived"),
    "Observation-body-temperature.json": (201, 201, ""),
    "Observation-heart-rate.json": (201, 201, ""),
    "Observation-respiratory-rate.json": (201, 201, ""),
    "Observation-body-height.json": (422, 422, "UCUM quantity in cm"),
    "Observation-example.json": (422, 422, "UCUM quantity in kg"),
    "Observation-blood-pressure.json": (422, 201, "basedOn"),
    "Observation-satO2.json": (422, 422, "device"),
    "Observation-bmi.json": (422, 422, "not a vital sign recorded here"),
    "Observation-vitals-panel.json": (422, 422, "hasMember"),
}


def _as_sent_here(example: dict, visit, site) -> dict:
    """The example with its references pointed at our visit, patient and site, and measured now."""
    body = {key: value for key, value in example.items() if key != "id"}
    if "subject" in body:
        body["subject"] = {"reference": f"Patient/{visit.patient_id}"}
    if body["resourceType"] == "Observation":
        body["encounter"] = {"reference": f"Encounter/{visit.pk}"}
        body["effectiveDateTime"] = timezone.now().isoformat()
    if body["resourceType"] == "Encounter":
        body["serviceProvider"] = {"reference": f"Organization/{site.pk}"}
    if body["resourceType"] == "Patient":
        body["managingOrganization"] = {"reference": f"Organization/{site.pk}"}
    return body


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the shared HL7 examples are absent")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hl7_example(name, nurse_fhir, visit, network):
    strict, lenient, reason = EXPECTED[name]
    example = json.loads((EXAMPLES / name).read_text())
    body = _as_sent_here(example, visit, network["imilchil"])
    answer = nurse_fhir.post(body["resourceType"], body)
    assert answer.status_code == strict, answer.body
    if strict >= 400:
        assert answer.body["resourceType"] == "OperationOutcome"
        assert reason in " ".join(issue["diagnostics"] for issue in answer.body["issue"])
    relaxed = nurse_fhir.post(body["resourceType"], body, headers={"Prefer": "handling=lenient"})
    assert relaxed.status_code == lenient, relaxed.body
