"""The FHIR server's framework: request context, resource registry, search, bundles, capability statement.

It knows no model: resource modules (``caravane.fhir.resources``) and operation modules
(``caravane.fhir.operations``) register themselves, and everything the server advertises comes from them.
"""
