"""State changes of the FHIR server: a bulk export requested (queued) and run (files written), each audited once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from caravane.accounts.models import User
from caravane.audit.actions import do_record_audit
from caravane.fhir.server.context import FhirContext
from caravane.fhir.server.resource import REGISTRY
from caravane.tasks.registry import background_task, enqueue

# Rows written to a file at a time: an export of a province streams, it never holds a table in memory.
EXPORT_CHUNK = 500


def export_dir(task_id: str) -> Path:
    """Where an export's NDJSON files are written (the data folder, beside the database and uploads)."""
    return Path(settings.CARAVANE.data_dir) / "fhir-export" / task_id


def exportable_types() -> list[str]:
    """The resource types a bulk export carries: those whose rows belong to a site."""
    return sorted(name for name, resource in REGISTRY.items() if resource.site_path)


def do_request_export(*, actor, types: list[str], province: str | None, base: str) -> str:
    """Queue the export of ``types`` (narrowed to ``province``) for ``actor``; returns the task's id."""
    with transaction.atomic(durable=True):
        task_id = enqueue(run_export, user_id=str(actor.pk), types=types, province=province, base=base)
        do_record_audit(actor=actor, action="fhir.export_requested", target=("fhir.export", task_id),
                        detail={"types": types, "province": province})
    return task_id


@background_task(takes_context=True)
def run_export(context, *, user_id: str, types: list[str], province: str | None, base: str) -> dict:
    """Write one NDJSON file per type with what the requester may read (their scope, their roles' permissions)."""
    user = User.objects.get(pk=user_id)
    task_id = str(context.task_result.id)
    folder = export_dir(task_id)
    shutil.rmtree(folder, ignore_errors=True)  # a retried attempt starts again
    folder.mkdir(parents=True)
    ctx = FhirContext(request=None, user=user, base=base)
    output, patients = [], 0
    for name in types:
        resource = REGISTRY[name]
        if not ctx.may(resource.perm):
            continue
        rows = resource.searchable(ctx.rows(resource))
        if province:
            rows = rows.filter(**{f"{resource.site_path}__commune__province_id": province})
        count = 0
        with open(folder / f"{name}.ndjson", "w", encoding="utf-8") as file:
            for start in range(0, 1 << 62, EXPORT_CHUNK):
                chunk = list(rows.order_by("pk")[start:start + EXPORT_CHUNK])
                for body in resource.render_many(chunk, ctx):
                    file.write(json.dumps(body, ensure_ascii=False) + "\n")
                count += len(chunk)
                if len(chunk) < EXPORT_CHUNK:
                    break
        patients += count if name == "Patient" else 0
        output.append({"type": name, "count": count})
    do_record_audit(actor=user, action="fhir.export", target=("fhir.export", task_id),
                    detail={"province": province, "output": output, "patients": patients})
    return {"output": output}
