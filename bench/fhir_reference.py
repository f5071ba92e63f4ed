"""The peer for ``serving.py patient-read``: the fhirstarter reference FHIR server (PyPI fhirstarter 4.2.0) with
the simplest provider, an in-memory dictionary, as its own example builds it (JSON kept, validated on each read).

Runs in the bench's own virtual environment (``serving.py`` creates it), never in the project's:
``FHIR_PATIENTS=patients.json uvicorn fhir_reference:app``; the file holds a list of FHIR Patient resources.
"""

from __future__ import annotations

import json
import os

from fhir.resources.patient import Patient

from fhirstarter import FHIRProvider, FHIRStarter, InteractionContext
from fhirstarter.exceptions import FHIRResourceNotFoundError

with open(os.environ["FHIR_PATIENTS"], encoding="utf-8") as source:
    # One JSON string per id, as fhirstarter's example stores its "database".
    DATABASE = {resource["id"]: json.dumps(resource) for resource in json.load(source)}

provider = FHIRProvider()


@provider.read(Patient)
async def patient_read(context: InteractionContext, id_: str) -> Patient:
    """One Patient, validated as fhirstarter's example does, or its FHIR 404."""
    patient = DATABASE.get(id_)
    if not patient:
        raise FHIRResourceNotFoundError
    return Patient.model_validate_json(patient)


app = FHIRStarter(title="fhirstarter reference (Caravane bench)")
app.add_providers(provider)
