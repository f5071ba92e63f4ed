"""The audit trail pages, for administrators: a filtered list and its CSV export. Nothing here edits."""

from __future__ import annotations

import csv
import json

from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.audit.filters import AuditFilterSet, DayFilter
from caravane.audit.selectors import audit_events
from caravane.core.access import Perm

AUDIT_TARGET = ("audit.auditevent", "")
PAGE_SIZE = 50
CSV_COLUMNS = ("at", "actor_username", "role", "site_name", "site_id", "object_type", "object_id", "action",
               "outcome", "client_address", "path", "detail")
# A spreadsheet runs a cell that starts with one of these as a formula; usernames typed at a failed login reach the export.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _form_fields(filterset: AuditFilterSet) -> list[dict]:
    return [
        {"name": name, "label": spec.label, "value": value, "options": spec.options(),
         "type": "date" if isinstance(spec, DayFilter) else "text", "error": filterset.errors.get(name)}
        for name, spec, value in filterset.fields()
    ]


@require_GET
def event_list(request):
    """Audit rows, newest first, filtered and paginated; opening it is itself audited."""
    gate.require(request.user, Perm.VIEW_AUDIT, AUDIT_TARGET, audit_action="view")
    filterset = AuditFilterSet(request.GET)
    # Written before the page is counted, so that the count and the rows shown agree.
    do_record_audit(actor=request.user, action="view", target=AUDIT_TARGET,
                    detail={"filters": filterset.values, "page": request.GET.get("page", "1")[:12]})
    page = Paginator(audit_events(filterset), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {
        "page": page, "fields": _form_fields(filterset), "filterset": filterset, "query": query.urlencode(),
    }, status=200 if filterset.is_valid else 400)


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value):
        return value


def _cell(value) -> str:
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif hasattr(value, "isoformat"):
        value = timezone.localtime(value).isoformat()
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_lines(events):
    writer = csv.writer(_Echo())
    yield "\ufeff"  # lets spreadsheet programs read the UTF-8 (Arabic names) correctly
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow([_cell(getattr(event, column)) for column in CSV_COLUMNS])


@require_GET
def event_export(request):
    """The filtered audit rows as CSV; the export itself is audited with its filters."""
    gate.require(request.user, Perm.VIEW_AUDIT, AUDIT_TARGET, audit_action="export")
    filterset = AuditFilterSet(request.GET)
    if not filterset.is_valid:
        return HttpResponseBadRequest("\n".join(f"{name}: {error}" for name, error in filterset.errors.items()),
                                      content_type="text/plain; charset=utf-8")
    events = audit_events(filterset)
    do_record_audit(actor=request.user, action="export", target=AUDIT_TARGET, detail={"filters": filterset.values})
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="caravane-audit-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def csrf_failure(request, reason=""):
    """A refused form post (missing or stale CSRF token): written as a security event, then Django's page."""
    from django.views.csrf import csrf_failure as django_csrf_failure

    gate.security_event("csrf_failed", reason=reason[:200],
                        username=request.user.get_username() if getattr(request, "user", None) else "")
    return django_csrf_failure(request, reason=reason)
