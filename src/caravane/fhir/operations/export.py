"""$export (FHIR Bulk Data, system level): asynchronous, NDJSON, for the whole scope or one province.

Kick-off ``GET $export`` with ``Prefer: respond-async`` answers 202 with the status URL in Content-Location;
the status answers 202 while the task queue works, then the manifest; each file is read with the same token.
Every type holding patients' or the network's records is exported (``actions.exportable_types``), or those
``_type`` names: a type not exported is refused, or with ``Prefer: handling=lenient`` left out and reported in
the manifest's ``error`` file (an OperationOutcome), as the Bulk Data specification says.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from caravane.core.access import Perm
from caravane.fhir import actions
from caravane.fhir.server.capability import register_operation
from caravane.fhir.server.errors import FhirError
from caravane.fhir.server.interactions import Answer, register_handler

NDJSON = "application/fhir+ndjson"
PARAMETERS = {"_type", "_outputFormat", "province"}


def kick_off(ctx, method: str, segments: list[str], query) -> Answer:
    """Queue an export of the author's scope (``province`` to narrow it, ``_type`` to choose types)."""
    ctx.require(Perm.EXPORT_FHIR, ("fhir.export", ""), audit_action="fhir.export_requested")
    if method != "GET" or len(segments) != 1:
        raise FhirError(405, "not-supported", _("Start an export with GET [base]/$export."))
    if "respond-async" not in ctx.request.headers.get("Prefer", ""):
        raise FhirError(400, "invalid", _("A bulk export is asynchronous: send Prefer: respond-async."))
    unknown = sorted(set(query) - PARAMETERS)
    if unknown:
        raise FhirError(400, "not-supported", _("$export does not take %(names)s.") % {"names": ", ".join(unknown)})
    if query.get("_outputFormat", NDJSON) not in (NDJSON, "ndjson", "application/ndjson"):
        raise FhirError(400, "not-supported", _("The only output format is application/fhir+ndjson."))
    served = actions.exportable_types()
    asked = [t for value in query.getlist("_type") for t in value.split(",") if t] if "_type" in query else served
    types = [t for t in served if t in asked]
    left_out = sorted(set(asked) - set(served))
    if not types or (left_out and not ctx.lenient):
        raise FhirError(400, "not-supported", _("_type: exported types are %(types)s.") % {"types": ", ".join(served)},
                        expression=["_type"])
    task_id = actions.do_request_export(actor=ctx.user, types=types, province=query.get("province") or None,
                                        base=ctx.base, left_out=left_out)
    return Answer(202, None, {"Content-Location": ctx.url("$export-poll", task_id)})


def _own_task(ctx, task_id: str) -> DBTaskResult:
    ctx.require(Perm.EXPORT_FHIR, ("fhir.export", task_id), audit_action="fhir.export_status")
    row = DBTaskResult.objects.filter(pk=task_id, task_path=actions.run_export.module_path).first() \
        if _is_uuid(task_id) else None
    if row is None or row.args_kwargs["kwargs"]["user_id"] != str(ctx.user.pk):
        raise FhirError(404, "not-found", _("No export of yours has this id."))
    return row


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def poll(ctx, method: str, segments: list[str], query) -> Answer:
    """The export's status: 202 while it runs, its manifest once done, 500 with the reason if it failed."""
    if len(segments) != 2:
        raise FhirError(404, "not-found", _("The status URL is [base]/$export-poll/{id}."))
    row = _own_task(ctx, segments[1])
    if row.status in (TaskResultStatus.READY, TaskResultStatus.RUNNING):
        return Answer(202, None, {"X-Progress": row.status.lower(), "Retry-After": "5"})
    if row.status != TaskResultStatus.SUCCESSFUL:
        raise FhirError(500, "exception", _("The export failed (%(error)s); start it again.") % {"error": row.exception_class_path})
    finished = row.finished_at or timezone.now()
    manifest = {
        "transactionTime": finished.astimezone(datetime.timezone.utc).isoformat(),
        "request": ctx.url("$export"), "requiresAccessToken": True,
        **{kind: [{"type": item["type"], "count": item["count"],
                   "url": ctx.url("$export-file", segments[1], f"{item['type']}.ndjson")}
                  for item in row.return_value.get(kind, [])] for kind in ("output", "error")},
    }
    return Answer(200, manifest, {"Content-Type": "application/json"})


def download(ctx, method: str, segments: list[str], query) -> Answer:
    """One NDJSON file of a finished export of the author's."""
    if len(segments) != 3:
        raise FhirError(404, "not-found", _("A file URL is [base]/$export-file/{id}/{Type}.ndjson."))
    row = _own_task(ctx, segments[1])
    names = {f"{item['type']}.ndjson" for kind in ("output", "error") for item in (row.return_value or {}).get(kind, [])}
    if segments[2] not in names:
        raise FhirError(404, "not-found", _("This export has no such file."))
    content = (actions.export_dir(segments[1]) / segments[2]).read_bytes()
    return Answer(200, content, {"Content-Type": NDJSON})


register_operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                   documentation=lambda: "Asynchronous (Prefer: respond-async), NDJSON. Types exported (_type chooses "
                                         "among them): " + ", ".join(actions.exportable_types()) + ". province: a "
                                         "province code narrows it to that province's sites.")
register_handler("$export", None, kick_off)
register_handler("$export-poll", None, poll)
register_handler("$export-file", None, download)
