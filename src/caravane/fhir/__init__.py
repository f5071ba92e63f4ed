"""The FHIR R4 server at /fhir/R4/: a mapping of the application's models, one module per resource and operation."""
