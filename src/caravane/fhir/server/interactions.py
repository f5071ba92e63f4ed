"""The RESTful interactions, independent of HTTP: the endpoint and the Bundle entries both call ``interact``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.utils.translation import gettext as _

from caravane.core.models import ImmutableRecordError
from caravane.fhir.server import search
from caravane.fhir.server.capability import capability_statement
from caravane.fhir.server.errors import FhirError, Issue, not_found
from caravane.fhir.server.resource import REGISTRY

# Operations: "$name" -> handler(ctx, resource type or None, id or None, query) -> Answer.
OPERATION_HANDLERS: dict = {}


@dataclass
class Answer:
    """What an interaction answers: a status, a resource (or None, or a file's bytes) and headers."""

    status: int
    body: dict | bytes | None
    headers: dict = field(default_factory=dict)


def as_fhir_error(error: Exception) -> FhirError:
    """The FhirError a refusal of the application (gate, validation, state machine) stands for."""
    if isinstance(error, FhirError):
        return error
    if isinstance(error, PermissionDenied):
        return FhirError(403, "forbidden", str(error) or _("Your role does not allow this."))
    if isinstance(error, Http404):
        return FhirError(404, "not-found", str(error))
    if isinstance(error, ImmutableRecordError):
        return FhirError(409, "conflict", str(error))
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            issues = [Issue("invariant", " ".join(messages), expression=[name])
                      for name, messages in error.message_dict.items()]
        else:
            issues = [Issue("business-rule", message) for message in error.messages]
        return FhirError(422, issues[0].code, issues[0].diagnostics, issues=issues)
    raise error


def resource_type(name: str):
    resource = REGISTRY.get(name)
    if resource is None:
        raise FhirError(404, "not-supported", _("This server does not serve %(type)s resources.") % {"type": name})
    return resource


def versioned_answer(resource, obj, ctx, status: int = 200) -> Answer:
    body = resource.render_many([obj], ctx)[0]
    version = body["meta"]["versionId"]
    headers = {"ETag": f'W/"{version}"', "Last-Modified": body["meta"]["lastUpdated"]}
    if status == 201:
        headers["Location"] = ctx.url(resource.type, obj.pk, "_history", version)
    return Answer(status, body, headers)


def parse_body(raw: bytes, expected: str | None) -> dict:
    """A JSON resource of type ``expected`` (any when None), or a 400 that says what is wrong."""
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise FhirError(400, "structure", _("The body is not JSON: %(error)s.") % {"error": error}) from None
    if not isinstance(body, dict) or "resourceType" not in body:
        raise FhirError(400, "structure", _("The body must be a FHIR resource (a JSON object with resourceType)."))
    if expected is not None and body["resourceType"] != expected:
        raise FhirError(400, "invalid", _("This URL takes a %(expected)s, not a %(sent)s.") % {"expected": expected, "sent": body["resourceType"]},
                        expression=["resourceType"])
    _check_structure(body)
    return body


def _check_structure(body: dict) -> None:
    """Refuse a resource that is not valid FHIR (R4B structure definitions) before any workflow reads it."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError as StructureError

    try:
        model = get_fhir_model_class(body["resourceType"])
    except KeyError:
        raise FhirError(400, "not-supported", _("%(type)s is not a FHIR resource type.") % {"type": body["resourceType"]}) from None
    try:
        model.model_validate(body)
    except StructureError as error:
        issues = [Issue("structure", f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}",
                        expression=[".".join([body["resourceType"], *map(str, problem["loc"])])])
                  for problem in error.errors()[:20]]
        raise FhirError(400, "structure", issues[0].diagnostics, issues=issues) from None


def interact(ctx, method: str, segments: list[str], query: QueryDict, raw_body: bytes | None = None,
             if_match: str | None = None) -> Answer:
    """Serve one interaction on ``segments`` (the path below the base, split on /)."""
    if segments and (segments[0].startswith("$") or segments[-1].startswith("$")):
        return _operation(ctx, method, segments, query)
    if segments == ["metadata"] and method == "GET":
        return Answer(200, capability_statement(ctx))
    if not segments:
        raise FhirError(405, "not-supported", _("Send a transaction or batch Bundle to the base with POST."))
    resource = resource_type(segments[0])
    if len(segments) == 1 and method == "GET":
        return Answer(200, search.search(resource, ctx, query))
    if len(segments) == 1 and method == "POST":
        if resource.create is None:
            raise FhirError(405, "not-supported", _("%(type)s resources are not created through FHIR.") % {"type": resource.type})
        # The gate first: a refused author learns nothing about their input.
        ctx.require(resource.create_perm, (resource.model._meta.label_lower, ""), audit_action=resource.create_action)
        obj = resource.create(ctx, parse_body(raw_body, resource.type))
        return versioned_answer(resource, resource.queryset().get(pk=obj.pk), ctx, 201)
    if len(segments) == 2 and method == "GET":
        return versioned_answer(resource, resource.read(ctx, segments[1]), ctx)
    if len(segments) == 2 and method == "PUT":
        if resource.update is None:
            raise FhirError(405, "not-supported", _("%(type)s resources are not updated through FHIR.") % {"type": resource.type})
        return _update(ctx, resource, segments[1], raw_body, if_match)
    if len(segments) == 2:
        raise FhirError(405, "not-supported", _("%(method)s is not served on a %(type)s.") % {"method": method, "type": resource.type})
    if resource.versioned and segments[2] == "_history" and len(segments) <= 4 and method == "GET":
        return _history(ctx, resource, segments[1], segments[3] if len(segments) == 4 else None, query)
    raise not_found(resource.type, "/".join(segments[1:]))


def _history(ctx, resource, pk: str, version: str | None, query) -> Answer:
    """An instance's versions (a history Bundle), or one of them (vread)."""
    if list(query):
        raise FhirError(400, "not-supported", _("History takes no parameters here."))
    versions = resource.history(resource.read(ctx, pk), ctx)
    if version is not None:
        for body in versions:
            if body["meta"]["versionId"] == version:
                return Answer(200, body, {"ETag": f'W/"{version}"', "Last-Modified": body["meta"]["lastUpdated"]})
        raise FhirError(404, "not-found", _("%(type)s/%(id)s has no version %(version)s.") % {"type": resource.type, "id": pk, "version": version})
    entries = [{"fullUrl": ctx.url(resource.type, pk), "resource": body,
                "request": {"method": "POST" if index == len(versions) - 1 else "PUT", "url": f"{resource.type}/{pk}"
                            if index < len(versions) - 1 else resource.type},
                "response": {"status": "201" if index == len(versions) - 1 else "200",
                             "lastModified": body["meta"]["lastUpdated"]}}
               for index, body in enumerate(versions)]
    return Answer(200, {"resourceType": "Bundle", "type": "history", "total": len(entries), "entry": entries})


def _update(ctx, resource, pk: str, raw_body, if_match) -> Answer:
    obj = ctx.fetch(resource, pk, perm=resource.update_perm, audit_action=resource.update_action)
    body = parse_body(raw_body, resource.type)
    if body.get("id") != str(obj.pk):
        raise FhirError(400, "invalid", _("The resource's id must be the id in the URL."), expression=[f"{resource.type}.id"])
    if if_match and if_match.strip() not in (f'W/"{resource.version_id(obj)}"', f'"{resource.version_id(obj)}"'):
        raise FhirError(412, "conflict", _("%(type)s/%(id)s changed since that version (If-Match).") % {"type": resource.type, "id": pk})
    changed = resource.update(ctx, obj, body)
    return versioned_answer(resource, resource.queryset().get(pk=changed.pk), ctx)


def _operation(ctx, method: str, segments: list[str], query) -> Answer:
    # A system operation names itself first ($export-poll/{id}); a type's or an instance's, last.
    name, on = (segments[0], None) if segments[0].startswith("$") else (segments[-1], segments[0])
    handler = OPERATION_HANDLERS.get((name, on))
    if handler is None:
        raise FhirError(404, "not-supported", _("The operation %(name)s is not served here.") % {"name": name})
    return handler(ctx, method, segments, query)


def register_handler(name: str, on: str | None, handler) -> None:
    OPERATION_HANDLERS[(name, on)] = handler
