"""State changes of the FHIR server: a bulk export requested (queued) and run (files written), each audited once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from caravane.accounts.models import User
from caravane.audit.actions import do_record_audit
from caravane.fhir.server.context import FhirContext
from caravane.fhir.server.errors import Issue, operation_outcome
from caravane.fhir.server.resource import REGISTRY
from caravane.tasks.registry import background_task, enqueue

# Rows written to a file at a time: an export of a province streams, it never holds a table in memory.
EXPORT_CHUNK = 500


def export_dir(task_id: str) -> Path:
    """Where an export's NDJSON files are written (the data folder, beside the database and uploads)."""
    return Path(settings.CARAVANE.data_dir) / "fhir-export" / task_id


def exportable_types() -> list[str]:
    """The resource types a bulk export carries: those holding patients' or the network's records (of a site)."""
    return sorted(name for name, resource in REGISTRY.items() if resource.site_paths)


def in_province(resource, rows, province: str):
    """``rows`` of ``resource`` that belong to a site of ``province`` (through any of its site paths)."""
    condition = Q(pk__in=[])
    for path in resource.site_paths:
        condition |= Q(**{f"{path}__commune__province_id" if path else "commune__province_id": province})
    # A subquery: a path through a to-many relation (a staff member's assignments) would repeat rows.
    return rows.filter(pk__in=resource.model._default_manager.filter(condition).values("pk"))


def do_request_export(*, actor, types: list[str], province: str | None, base: str, left_out: list[str]) -> str:
    """Queue the export of ``types`` (narrowed to ``province``) for ``actor``; returns the task's id.

    ``left_out`` names the types asked for that are not exported (handling=lenient): the manifest reports them.
    """
    with transaction.atomic(durable=True):
        task_id = enqueue(run_export, user_id=str(actor.pk), types=types, province=province, base=base,
                          left_out=left_out)
        do_record_audit(actor=actor, action="fhir.export_requested", target=("fhir.export", task_id),
                        detail={"types": types, "province": province})
    return task_id


@background_task(takes_context=True)
def run_export(context, *, user_id: str, types: list[str], province: str | None, base: str,
               left_out: list[str] = ()) -> dict:
    """Write one NDJSON file per type with what the requester may read (their scope, their roles' permissions).

    ``left_out`` defaults to none for exports queued before it was passed."""
    user = User.objects.get(pk=user_id)
    task_id = str(context.task_result.id)
    folder = export_dir(task_id)
    shutil.rmtree(folder, ignore_errors=True)  # a retried attempt starts again
    folder.mkdir(parents=True)
    ctx = FhirContext(request=None, user=user, base=base)
    output, patients = [], 0
    for name in types:
        parts = [part for part in REGISTRY[name].exported() if ctx.may(part.reading_perm(ctx))]
        if not parts:
            continue
        count = 0
        with open(folder / f"{name}.ndjson", "w", encoding="utf-8") as file:
            for part in parts:
                count += _write_rows(ctx, part, province, file)
        patients += count if name == "Patient" else 0
        output.append({"type": name, "count": count})
    errors = []
    if left_out:
        outcome = operation_outcome([Issue("not-supported", _("_type: %(types)s are not exported; they were left out "
                                                              "(handling=lenient).") % {"types": ", ".join(left_out)},
                                           severity="warning", expression=["_type"])])
        (folder / "OperationOutcome.ndjson").write_text(json.dumps(outcome, ensure_ascii=False) + "\n", encoding="utf-8")
        errors.append({"type": "OperationOutcome", "count": 1})
    do_record_audit(actor=user, action="fhir.export", target=("fhir.export", task_id),
                    detail={"province": province, "output": output, "patients": patients})
    return {"output": output, "error": errors}


def _write_rows(ctx, resource, province: str | None, file) -> int:
    """Write the rows of ``resource`` the requester may read (in ``province`` when given), a chunk at a time."""
    rows = resource.searchable(ctx.rows(resource))
    if province:
        rows = in_province(resource, rows, province)
    count = 0
    for start in range(0, 1 << 62, EXPORT_CHUNK):
        chunk = list(rows.order_by("pk")[start:start + EXPORT_CHUNK])
        for body in resource.render_many(chunk, ctx):
            file.write(json.dumps(body, ensure_ascii=False) + "\n")
        count += len(chunk)
        if len(chunk) < EXPORT_CHUNK:
            break
    return count
