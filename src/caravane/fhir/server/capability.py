"""The CapabilityStatement, generated from the registry: every interaction, parameter and operation it lists is
one the server serves (tests exercise each of them)."""

from __future__ import annotations

from caravane.fhir.server.resource import REGISTRY
from caravane.fhir.server.search import CONTROLS

FHIR_VERSION = "4.0.1"
# When this statement's shape last changed (the statement itself is generated at each request).
STATEMENT_DATE = "2026-12-01"
# Operations registered by the modules of ``caravane.fhir.operations``: name -> (definition URL, resource or None).
OPERATIONS: dict[str, tuple[str, str | None]] = {}


def register_operation(name: str, definition: str, resource: str | None = None) -> None:
    """Advertise an operation (``$name``) on ``resource``, or on the whole system when None."""
    OPERATIONS[name] = (definition, resource)


def capability_statement(ctx) -> dict:
    """What this server does, resource by resource."""
    resources = []
    for name in sorted(REGISTRY):
        resource = REGISTRY[name]
        entry = {
            "type": name,
            "interaction": [{"code": code} for code in resource.interactions()],
            "versioning": "versioned" if resource.versioned else "no-version",
            "readHistory": resource.versioned,
            "updateCreate": False,
            "searchParam": [{"name": param_name, "type": param.type, "documentation": param.documentation}
                            for param_name, param in resource.params.items()],
            "searchInclude": sorted(resource.includes),
            "searchRevInclude": sorted(key for other in REGISTRY.values() for key, include in other.includes.items()
                                       if include.target == name),
            "operation": [{"name": op, "definition": definition}
                          for op, (definition, on) in sorted(OPERATIONS.items()) if on == name],
        }
        if resource.profile:
            entry["profile"] = resource.profile
        if resource.documentation:
            entry["documentation"] = resource.documentation
        resources.append({key: value for key, value in entry.items() if value not in ([], "")})
    rest = {
        "mode": "server",
        "documentation": "Search controls on every type: " + ", ".join(CONTROLS) + ". Unknown parameters are "
                         "refused (400) unless the request sends Prefer: handling=lenient.",
        "security": {"cors": False, "service": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth",
            "display": "OAuth"}], "text": "Bearer tokens of the application (Authorization: Bearer crv_...) or a "
                                          "browser session"}],
            "description": "The application's scopes apply: each read of patient data is audited."},
        "resource": resources,
        "interaction": [{"code": "transaction"}, {"code": "batch"}],
    }
    system_operations = [{"name": op, "definition": definition}
                         for op, (definition, on) in sorted(OPERATIONS.items()) if on is None]
    if system_operations:
        rest["operation"] = system_operations
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": STATEMENT_DATE,
        "publisher": "Caravane", "kind": "instance",
        "software": {"name": "Caravane"},
        "implementation": {"description": "Caravane FHIR R4 server", "url": ctx.base},
        "fhirVersion": FHIR_VERSION, "format": ["application/fhir+json", "json"],
        "rest": [rest],
    }
