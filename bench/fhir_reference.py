"""The peer for ``serving.py patient-read``: the fhirstarter reference FHIR server (PyPI fhirstarter 4.2.0) with
the simplest provider, an in-memory dictionary, as its own example builds it (JSON kept, validated on each read).

Runs in the bench's own virtual environment (``serving.py`` creates it), never in the project's:
``FHIR_PATIENTS=patients.json uvicorn fhir_reference:app``; the file holds a list of FHIR Patient resources.
"""

from __future__ import annotations

import json
import os

from fhir.resources.bundle import Bundle
from fhir.resources.observation import Observation
from fhir.resources.patient import Patient

from fhirstarter import FHIRProvider, FHIRStarter, InteractionContext
from fhirstarter.exceptions import FHIRResourceNotFoundError

with open(os.environ["FHIR_PATIENTS"], encoding="utf-8") as source:
    # One JSON string per id, as fhirstarter's example stores its "database".
    DATABASE = {resource["id"]: json.dumps(resource) for resource in json.load(source)}

# Observations by (patient reference, LOINC code), for bench/fhir_server.py's search (FHIR_OBSERVATIONS, optional).
OBSERVATIONS: dict[tuple[str, str], list[str]] = {}
if os.environ.get("FHIR_OBSERVATIONS"):
    with open(os.environ["FHIR_OBSERVATIONS"], encoding="utf-8") as source:
        for resource in json.load(source):
            key = (resource["subject"]["reference"], resource["code"]["coding"][0]["code"])
            OBSERVATIONS.setdefault(key, []).append(json.dumps(resource))

provider = FHIRProvider()


@provider.read(Patient)
async def patient_read(context: InteractionContext, id_: str) -> Patient:
    """One Patient, validated as fhirstarter's example does, or its FHIR 404."""
    patient = DATABASE.get(id_)
    if not patient:
        raise FHIRResourceNotFoundError
    return Patient.model_validate_json(patient)


@provider.search_type(Observation)
async def observation_search(context: InteractionContext, patient: str | None, code: str | None) -> Bundle:
    """A patient's observations of one code, validated as the reads are, in a searchset Bundle."""
    reference = patient if patient and "/" in patient else f"Patient/{patient}"
    found = [Observation.model_validate_json(o) for o in OBSERVATIONS.get((reference, code or ""), [])]
    return Bundle(**{"type": "searchset", "total": len(found),
                     "entry": [{"resource": o} for o in found] if found else None})


# fhirstarter compares the search handler's annotations with its classes; this module's are strings (PEP 563).
observation_search.__annotations__.update(context=InteractionContext, patient=str | None, code=str | None)

app = FHIRStarter(title="fhirstarter reference (Caravane bench)")
app.add_providers(provider)
