"""The CapabilityStatement, generated from the registry: every interaction, parameter and operation it lists is
one the server serves (tests exercise each of them)."""

from __future__ import annotations

from typing import Callable

from caravane.fhir.server.resource import REGISTRY
from caravane.fhir.server.search import CONTROLS, sorts

FHIR_VERSION = "4.0.1"
# When this statement's shape last changed (the statement itself is generated at each request).
STATEMENT_DATE = "2026-12-01"
# Operations registered by the modules of ``caravane.fhir.operations``: name -> (definition URL, resource or None,
# what to document, read at each request since it depends on the registry).
OPERATIONS: dict[str, tuple[str, str | None, Callable[[], str] | None]] = {}


def register_operation(name: str, definition: str, resource: str | None = None, *,
                       documentation: Callable[[], str] | None = None) -> None:
    """Advertise an operation (``$name``) on ``resource``, or on the whole system when None."""
    OPERATIONS[name] = (definition, resource, documentation)


def _operations(on: str | None) -> list[dict]:
    return [{"name": name, "definition": definition, **({"documentation": documentation()} if documentation else {})}
            for name, (definition, resource, documentation) in sorted(OPERATIONS.items()) if resource == on]


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
            "operation": _operations(name),
            "documentation": " ".join(filter(None, [resource.documentation, "_sort keys (- before one: descending): "
                                                    + ", ".join(sorts(resource)) + "."])),
        }
        if resource.profile:
            entry["profile"] = resource.profile
        resources.append({key: value for key, value in entry.items() if value not in ([], "")})
    rest = {
        "mode": "server",
        "documentation": "Search controls on every type: " + ", ".join(CONTROLS) + " (_total: none, estimate or "
                         "accurate; an estimate is exact). Unknown parameters and sort keys are refused (400) unless "
                         "the request sends Prefer: handling=lenient.",
        "security": {"cors": False, "service": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth",
            "display": "OAuth"}], "text": "Bearer tokens of the application (Authorization: Bearer crv_...) or a "
                                          "browser session"}],
            "description": "The application's scopes apply: each read of patient data is audited."},
        "resource": resources,
        "interaction": [{"code": "transaction"}, {"code": "batch"}],
    }
    system_operations = _operations(None)
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
