"""Shared pieces of the JSON API: the error schema and handlers, pagination, filters and permission checks."""

from math import ceil
from typing import Any, Optional
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import PaginationBase
from pydantic import create_model

from caravane.core.errors import messages_by_field


class FieldError(Schema):
    """One rejected input: the field it names and why."""

    field: str
    message: str


class Error(Schema):
    """Every API error: a message for people, and the offending fields for bad input."""

    detail: str
    errors: list[FieldError] = []


# The responses every authenticated operation may give besides its success, for the OpenAPI contract.
ERRORS = {401: Error, 403: Error, 404: Error}
INPUT_ERRORS = {400: Error, 422: Error}


class BadInput(Exception):
    """Input that parsed but makes no sense (an unknown filter value...): answered 400, naming the fields."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def _error(api, request, status: int, detail: str, errors: list[dict] | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def _validation_field(loc) -> str:
    # ninja reports ("query", "page") or ("body", "<parameter>", "name", ...): keep what the client sent.
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] or parts[1:]
    elif parts:
        parts = parts[1:] or parts
    return ".".join(parts)


def install_error_handlers(api) -> None:
    """Make every API failure a JSON ``Error``: 400/422 bad input, 401, 403, 404."""

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        response = _error(api, request, 401, _("Authentication required: log in, or send 'Authorization: Bearer <token>'."))
        response["WWW-Authenticate"] = 'Bearer realm="caravane"'
        return response

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return _error(api, request, 403, str(exc) or _("You do not have permission to do this."))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return _error(api, request, 404, str(exc) or _("Not found."))

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        return _error(api, request, exc.status_code, str(exc.message))

    @api.exception_handler(BadInput)
    def bad_input(request, exc):
        errors = [{"field": field, "message": message} for field, message in exc.errors.items()]
        return _error(api, request, 400, _("Invalid input: %(fields)s.") % {"fields": ", ".join(exc.errors)}, errors)

    @api.exception_handler(ValidationError)
    def invalid(request, exc):
        errors = [{"field": _validation_field(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors]
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        return _error(api, request, 422, _("Invalid input: %(fields)s.") % {"fields": fields}, errors)


def api_not_found(request):
    """A JSON 404 for an /api/ address that names no endpoint (Django would answer with an HTML page)."""
    return JsonResponse({"detail": _("No API endpoint at this address."), "errors": []}, status=404)


def input_error(error: DjangoValidationError) -> BadInput:
    """The 400 for an action's ValidationError: its messages by field (``__all__`` when it names none)."""
    return BadInput({field: " ".join(messages) for field, messages in messages_by_field(error).items()})


def run_action(action, **kwargs):
    """Run a ``do_*`` action, turning its refusal (ValidationError) into a 400 that names the fields."""
    try:
        return action(**kwargs)
    except DjangoValidationError as error:
        raise input_error(error)


def get_or_404(queryset, **lookup):
    """The one object of ``queryset`` matching ``lookup``, or a JSON 404 naming what was not found."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, DjangoValidationError):
        raise Http404(_("No %(thing)s with this identifier.") % {"thing": queryset.model._meta.verbose_name})


def filter_query(filterset_class, name: str) -> type[Schema]:
    """The query-parameter schema of a FilterSet, so that the API and the pages share one declaration."""
    fields: dict[str, Any] = {}
    # Descriptions go into the OpenAPI contract, written in the source language whatever the request's.
    with translation.override(None):
        for param, spec in filterset_class.filters.items():
            description = str(spec.label)
            if spec.choices is not None and not callable(spec.choices):
                description += " (" + ", ".join(value for value, _label in spec.options()) + ")"
            fields[param] = (Optional[str], Field(None, description=description))
    return create_model(name, __base__=Schema, **fields)


def apply_filters(filterset_class, params: Schema, queryset):
    """Filter ``queryset`` by the query parameters, or raise BadInput naming the rejected ones."""
    filterset = filterset_class(params.model_dump(exclude_none=True))
    if not filterset.is_valid:
        raise BadInput(filterset.errors)
    return filterset.filter(queryset)


class PageNumber(PaginationBase):
    """``?page=&page_size=`` pagination with the total count and links to the neighbouring pages."""

    items_attribute = "results"

    class Input(Schema):
        page: int = Field(1, ge=1, description="Page number, from 1.")
        page_size: int = Field(50, ge=1, le=200, description="Items per page (at most 200).")

    class Output(Schema):
        count: int
        page: int
        page_size: int
        pages: int
        next: Optional[str] = None
        previous: Optional[str] = None
        results: list[Any]

    def paginate_queryset(self, queryset, pagination: Input, request, **params):
        if isinstance(queryset, QuerySet):
            # Rows that tie on the ordering must not swap between two page requests.
            queryset = queryset.order_by(*(queryset.query.order_by or queryset.model._meta.ordering), "pk")
        count = self._items_count(queryset)
        size = pagination.page_size
        pages = max(1, ceil(count / size))
        start = (pagination.page - 1) * size
        return {
            "count": count,
            "page": pagination.page,
            "page_size": size,
            "pages": pages,
            "next": self._link(request, pagination.page + 1) if pagination.page < pages else None,
            "previous": self._link(request, pagination.page - 1) if pagination.page > 1 else None,
            "results": queryset[start:start + size],
        }

    @staticmethod
    def _link(request, page: int) -> str:
        query = request.GET.copy()
        query["page"] = str(page)
        return f"{request.path}?{urlencode(sorted(query.items()))}"
