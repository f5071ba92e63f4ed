"""One module per FHIR resource type; importing this package registers them all (see ``FhirConfig.ready``)."""

from caravane.fhir.resources import (  # noqa: F401
    appointment, audit_event, communication, condition, consent, device, diagnostic_report, encounter, location,
    media, medication_dispense, medication_request, observation, organization, patient, practitioner, practitioner_role,
    schedule, service_request, slot, task,
)
