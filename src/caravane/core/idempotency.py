"""Creating API requests that a client can retry: the ``Idempotency-Key`` header.

A client that sends a creating request with ``Idempotency-Key: <its own unique value>`` and gets no answer
(dropped connection, killed server) sends the same request again with the same key. If the first one was
committed, the retry gets its stored answer back (same status and body, with ``Idempotent-Replayed: true``)
instead of creating a duplicate; if it was not, the retry runs as a new request.

How this holds when a server is killed: the whole request runs in one transaction (``RequestTransaction``)
that holds the key's row (``IdempotentRequest``), the action's writes and the answer; they commit together or
not at all. The key's row is inserted before the handler runs, so a concurrent request with the same key
waits for the first one's commit (PostgreSQL: the unique index; SQLite: the write lock) and then replays it.
Only successful answers (2xx) are kept: a refused request changed nothing, and may be sent again, corrected,
with the same key. A key is remembered for ``KEY_LIFETIME``; ``delete_expired`` forgets older ones.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_callback

from caravane.core.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
KEY_LIFETIME = datetime.timedelta(hours=24)
FORM_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# The OpenAPI contract, in the source language whatever the request's.
HEADER_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": "^[ -~]+$"},
    "description": (
        f"A value unique to this request (a UUID, say), 1 to {KEY_MAX_LENGTH} printable ASCII characters. "
        f"Sending the same request again with the same key, within {KEY_LIFETIME.days * 24} hours, returns the "
        "first answer instead of creating a duplicate; the same key with a different request is refused (422). "
        "Refused requests are not kept."),
}
REPLAYED_RESPONSE_HEADER = {
    REPLAYED_HEADER: {
        "description": "Present (true) when this is the stored answer to an earlier request with the same "
                       "Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
RESPONSE_DESCRIPTIONS = {
    400: "Invalid input, or an invalid Idempotency-Key header.",
    422: "Invalid input, or an Idempotency-Key already used for a different request.",
}


class RequestTransaction(transaction.Atomic):
    """The one transaction of a request sent with a key: its action's writes and its stored answer commit together."""

    def __init__(self):
        super().__init__(using=DEFAULT_DB_ALIAS, savepoint=True, durable=True)


def action_transaction():
    """The transaction of a ``do_*`` action: durable, unless it runs directly in an idempotent request's.

    Actions are durable so that no caller nests them in a longer transaction; the one exception is the
    request transaction, which must commit the action together with the answer it stores.
    """
    blocks = transaction.get_connection().atomic_blocks
    if blocks and isinstance(blocks[-1], RequestTransaction):
        return transaction.atomic()
    return transaction.atomic(durable=True)


@dataclass
class _KeyedRequest:
    key: str
    # The key's row once this request holds it; its answer is stored there before the commit.
    record: IdempotentRequest | None = None


def idempotent(handler):
    """Make a creating API operation honour ``Idempotency-Key`` (place it under ``@router.post``)."""
    contribute_operation_callback(handler, _prepare_operation)
    return decorate_view(_in_request_transaction)(handler)


def _prepare_operation(operation) -> None:
    missing = {400, 422} - set(operation.response_models)
    if missing:
        raise ImproperlyConfigured(f"{operation.view_func.__qualname__}: an idempotent operation declares the "
                                   f"{sorted(missing)} responses (INPUT_ERRORS)")
    operation.view_func = _claiming_key(operation.view_func)
    extra = operation.openapi_extra = operation.openapi_extra or {}
    extra.setdefault("parameters", []).append(HEADER_PARAMETER)
    responses = extra.setdefault("responses", {})
    for status in operation.response_models:
        if 200 <= status < 300:
            responses.setdefault(status, {})["headers"] = REPLAYED_RESPONSE_HEADER
    for status, description in RESPONSE_DESCRIPTIONS.items():
        responses.setdefault(status, {})["description"] = description


def _in_request_transaction(run):
    """Wrap ninja's whole run of the operation (authentication, handler, answer) in the request transaction."""

    @functools.wraps(run)
    def run_keyed(request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return run(request, *args, **kwargs)
        request.idempotency = keyed = _KeyedRequest(key)
        with RequestTransaction():
            response = run(request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif keyed.record is not None:
                _keep_answer(keyed.record, response)
        return response

    return run_keyed


def _claiming_key(handler):
    """Run the handler once the request holds its key; otherwise answer with the stored answer or a refusal."""

    @functools.wraps(handler)
    def handle_once(request, *args, **kwargs):
        keyed = getattr(request, "idempotency", None)
        if keyed is None:
            return handler(request, *args, **kwargs)
        if not _valid_key(keyed.key):
            return _refusal(400, _("Invalid input: %(fields)s.") % {"fields": HEADER},
                            _("Idempotency-Key: send 1 to 255 printable ASCII characters."))
        fingerprint = request_fingerprint(request)
        record, claimed = _claim(request.user, keyed.key, f"{request.method} {request.path}", fingerprint)
        if claimed:
            keyed.record = record
            return handler(request, *args, **kwargs)
        if record.request_hash != fingerprint:
            message = _("Idempotency-Key: this key was already used for a different request; "
                        "send a new key with each new request.")
            return _refusal(422, message, message)
        response = JsonResponse(record.response_body, status=record.response_status, safe=False,
                                content_type=JSON_CONTENT_TYPE)
        response[REPLAYED_HEADER] = "true"
        return response

    return handle_once


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= KEY_MAX_LENGTH and all(" " <= char <= "~" for char in key)


def _refusal(status: int, detail: str, message: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": [{"field": HEADER, "message": message}]}, status=status,
                        content_type=JSON_CONTENT_TYPE)


def _claim(user, key: str, route: str, fingerprint: str) -> tuple[IdempotentRequest, bool]:
    """(the key's new row, True) when this request now holds the key; (the earlier request's row, False) if not."""
    earlier = IdempotentRequest.objects.filter(user=user, key=key, route=route)
    earlier.filter(created_at__lt=timezone.now() - KEY_LIFETIME).delete()
    record = earlier.first()
    if record is not None:
        return record, False
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(user=user, key=key, route=route, request_hash=fingerprint), True
    except IntegrityError:
        # A concurrent request with this key got there first; the insert waited for its commit.
        return earlier.get(), False


def _keep_answer(record: IdempotentRequest, response) -> None:
    if 200 <= response.status_code < 300:
        record.response_status = response.status_code
        record.response_body = json.loads(response.content)
        record.save(update_fields=["response_status", "response_body"])
    else:
        record.delete()


def request_fingerprint(request) -> str:
    """SHA-256 of what a request asks for: its query and content (JSON by value, form files by content)."""
    if request.content_type in FORM_CONTENT_TYPES:
        # A multipart body's boundary changes from one sending to the next: compare what it carries.
        files = [[name, [[upload.name, _file_digest(upload)] for upload in uploads]]
                 for name, uploads in request.FILES.lists()]
        content = {"fields": sorted(request.POST.lists()), "files": sorted(files)}
    else:
        try:
            content = json.loads(request.body or b"null")
        except ValueError:
            content = {"raw": hashlib.sha256(request.body).hexdigest()}
    canonical = json.dumps({"query": sorted(request.GET.lists()), "content": content}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def delete_expired(now: datetime.datetime | None = None) -> int:
    """Forget the keys older than ``KEY_LIFETIME`` (run periodically); returns how many were deleted."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
