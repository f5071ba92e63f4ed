"""Bundle ``transaction`` (all or nothing) and ``batch`` (each entry on its own).

A transaction runs in the request's one transaction (``RequestTransaction``, the idempotency layer's): the
actions it calls (``do_*``) see it as the innermost block and join it instead of opening their own durable one
(``action_transaction``). Anywhere else an action is still durable, so no other caller can nest it; and within
the bundle each action still writes its one audit row and publishes its events after the single commit.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.http import QueryDict
from django.utils.translation import gettext as _

from caravane.audit.context import current_request_context
from caravane.core.idempotency import RequestTransaction
from caravane.fhir.server.errors import FhirError
from caravane.fhir.server.interactions import Answer, as_fhir_error, interact

METHODS = ("POST", "PUT", "GET")


def process(ctx, body: dict) -> Answer:
    """Answer a transaction or batch Bundle with its response Bundle."""
    kind = body.get("type")
    if kind not in ("transaction", "batch"):
        raise FhirError(400, "invalid", _("Only transaction and batch Bundles are processed here."),
                        expression=["Bundle.type"])
    entries = body.get("entry") or []
    for index, entry in enumerate(entries):
        method = (entry.get("request") or {}).get("method")
        if method not in METHODS:
            raise FhirError(400, "not-supported", _("Bundle.entry[%(index)s]: the method must be one of %(methods)s.") % {
                                "index": index, "methods": ", ".join(METHODS)}, expression=[f"Bundle.entry[{index}].request.method"])
    if kind == "batch":
        responses = [_batch_entry(ctx, entry) for entry in entries]
    else:
        responses = _transaction(ctx, entries)
    return Answer(200, {"resourceType": "Bundle", "type": f"{kind}-response", "entry": responses})


def _batch_entry(ctx, entry: dict) -> dict:
    try:
        return _response(_run(ctx, entry, {}))
    except Exception as error:  # noqa: BLE001 - each entry's refusal is its own answer; others still run
        refusal = as_fhir_error(error)
        return {"response": {"status": str(refusal.status), "outcome": refusal.outcome()}}


def _transaction(ctx, entries: list[dict]) -> list[dict]:
    context = current_request_context()
    written_before = context.rows_written
    answers: dict[int, Answer] = {}
    created: dict[str, str] = {}
    index = None
    try:
        with RequestTransaction():
            for index in _order(entries):
                answers[index] = _run(ctx, entries[index], created)
    except Exception as error:  # noqa: BLE001 - the whole bundle is refused with the failing entry's reason
        # The rolled-back actions wrote no audit row: the gate's own row records the failed request.
        context.rows_written = written_before
        refusal = as_fhir_error(error)
        for issue in refusal.issues:
            issue.expression = [f"Bundle.entry[{index}]", *issue.expression]
            issue.diagnostics = _("Bundle.entry[%(index)s]: %(problem)s Nothing in the transaction was kept.") % {
                "index": index, "problem": issue.diagnostics}
        raise refusal from None
    return [_response(answers[index]) for index in range(len(entries))]


def _order(entries: list[dict]) -> list[int]:
    """Entries in processing order: creations first, each after the creations it refers to, then updates, reads."""
    full_urls = {entry.get("fullUrl"): index for index, entry in enumerate(entries) if entry.get("fullUrl")}
    ordered: list[int] = []

    def visit(index: int, path: tuple) -> None:
        if index in ordered or index in path:
            return
        for url in _references(entries[index].get("resource")):
            if url in full_urls:
                visit(full_urls[url], (*path, index))
        ordered.append(index)

    for method in METHODS:
        for index, entry in enumerate(entries):
            if entry["request"]["method"] == method:
                visit(index, ())
    return ordered


def _references(value) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [url for item in value.values() for url in _references(item)]
    if isinstance(value, list):
        return [url for item in value for url in _references(item)]
    return []


def _resolved(value, created: dict[str, str]):
    """``value`` with references to entries created earlier (their fullUrl) replaced by ``Type/id``."""
    if isinstance(value, dict):
        return {key: (created.get(item, item) if key == "reference" and isinstance(item, str)
                      else _resolved(item, created)) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, created) for item in value]
    return value


def _run(ctx, entry: dict, created: dict[str, str]) -> Answer:
    request = entry["request"]
    url = urlsplit(request.get("url", ""))
    segments = [part for part in url.path.split("/") if part]
    resource = entry.get("resource")
    raw = None
    if request["method"] in ("POST", "PUT"):
        if not isinstance(resource, dict):
            raise FhirError(400, "required", _("A POST or PUT entry carries its resource."))
        # Read as a request body would be: the gate first, then the structure.
        raw = json.dumps(_resolved(resource, created)).encode()
    answer = interact(ctx, request["method"], segments, QueryDict(url.query), raw_body=raw,
                      if_match=request.get("ifMatch"))
    if request["method"] == "POST" and entry.get("fullUrl") and answer.body:
        created[entry["fullUrl"]] = f"{answer.body['resourceType']}/{answer.body['id']}"
    return answer


def _response(answer: Answer) -> dict:
    response = {"status": f"{answer.status}"}
    if "Location" in answer.headers:
        response["location"] = answer.headers["Location"]
    if "ETag" in answer.headers:
        response["etag"] = answer.headers["ETag"]
    if "Last-Modified" in answer.headers:
        response["lastModified"] = answer.headers["Last-Modified"]
    entry = {"response": response}
    if answer.body is not None:
        entry["resource"] = answer.body
        if "id" in answer.body and answer.body.get("resourceType") != "Bundle":
            entry["fullUrl"] = answer.headers.get("Location", "").split("/_history/")[0] or None
    return {key: value for key, value in entry.items() if value}

