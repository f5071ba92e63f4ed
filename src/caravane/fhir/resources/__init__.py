"""One module per FHIR resource type; importing this package registers them all (see ``FhirConfig.ready``)."""

from caravane.fhir.resources import (  # noqa: F401
    audit_event, condition, consent, encounter, location, medication_request, observation, organization, patient,
    practitioner, practitioner_role,
)
