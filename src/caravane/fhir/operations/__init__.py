"""One module per FHIR operation; importing this package registers them (see ``FhirConfig.ready``)."""

from caravane.fhir.operations import everything, export  # noqa: F401
