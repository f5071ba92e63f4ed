"""Shared pieces of the JSON API: the API class with its input guards, the error schema and handlers,
pagination, filters and permission checks."""

import datetime
import inspect
import json
import logging
from functools import wraps
from math import ceil, isfinite
from typing import Annotated, Any, Optional
from urllib.parse import urlencode

from django.core.exceptions import (
    PermissionDenied, RequestDataTooBig, SuspiciousOperation, ValidationError as DjangoValidationError,
)
from django.db.models import QuerySet
from django.http import Http404, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.responses import NinjaJSONEncoder
from ninja.pagination import PaginationBase
from ninja.parser import Parser
from pydantic import AfterValidator, create_model
from pydantic_core import PydanticCustomError

from caravane.core.errors import messages_by_field
from caravane.core.text import storage_problem

logger = logging.getLogger(__name__)
API_PREFIX = "/api/"


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
# What every operation may answer besides its own responses (CaravaneAPI adds them to the OpenAPI document).
STANDARD_ERRORS = {
    400: "Bad input: an unknown query parameter, a NUL character or an unpaired surrogate, or a value the "
         "operation refuses; `errors` names the fields.",
    401: "Not authenticated.",
    403: "Authenticated, but outside the caller's role or scope.",
    404: "No such object (or address).",
    422: "A parameter or a body field does not match the schema; `errors` names the fields.",
}
BODY_ERRORS = {413: "The request body is larger than the limit (see docs/api-limits.md)."}


def _in_utc(value: datetime.datetime) -> datetime.datetime:
    # PostgreSQL refuses the UTC offsets beyond 15:59 that ISO 8601 and Python allow: keep the instant, in UTC.
    try:
        aware = value if value.tzinfo else timezone.make_aware(value)
        return aware.astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        raise PydanticCustomError("datetime_range", _("Date and time out of range.")) from None


# An input date and time (ISO 8601; without an offset, in the server's time zone), as the instant in UTC.
Instant = Annotated[datetime.datetime, AfterValidator(_in_utc)]


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
    """Make every API failure a JSON ``Error``: 400/422 bad input, 401, 403, 404, 413, and 500 (logged)."""

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
        if isinstance(exc.__cause__, BadInput):  # the body parser refused a string (ninja wraps its errors)
            return bad_input(request, exc.__cause__)
        return _error(api, request, exc.status_code, str(exc.message))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        return _error(api, request, 413, _("The request body is too large."))

    @api.exception_handler(SuspiciousOperation)
    @api.exception_handler(MultiPartParserError)
    @api.exception_handler(UnreadablePostError)
    def unreadable(request, exc):
        return _error(api, request, 400, _("The request could not be read."))

    @api.exception_handler(DjangoValidationError)
    def refused(request, exc):  # an action's refusal that its handler did not turn into BadInput itself
        return bad_input(request, input_error(exc))

    @api.exception_handler(Exception)
    def internal_error(request, exc):
        # Logged with its traceback for the operators; the caller never sees it, in DEBUG mode neither.
        logger.exception("API error on %s %s", request.method, request.path)
        return _error(api, request, 500, _("Internal error: it has been logged. Try again later."))

    @api.exception_handler(BadInput)
    def bad_input(request, exc):
        errors = [{"field": field, "message": message} for field, message in exc.errors.items()]
        return _error(api, request, 400, _("Invalid input: %(fields)s.") % {"fields": ", ".join(exc.errors)}, errors)

    @api.exception_handler(ValidationError)
    def invalid(request, exc):
        errors = [{"field": _validation_field(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors]
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        return _error(api, request, 422, _("Invalid input: %(fields)s.") % {"fields": fields}, errors)


def _text_problems(value, path: str = "") -> dict[str, str]:
    """The strings (and keys) in a parsed request that no database can store, by their path in the request."""
    if isinstance(value, str):
        problem = storage_problem(value)
        return {path or "body": problem} if problem else {}
    problems: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            key_path = f"{path}.{key}" if path else str(key)
            problems.update(_text_problems(key, key_path))
            problems.update(_text_problems(item, key_path))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.update(_text_problems(item, f"{path}.{index}" if path else str(index)))
    return problems


def _refuse_non_finite(constant: str):
    raise ValueError(f"{constant} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


class CheckedParser(Parser):
    """ninja's parser, refusing what no database can store: NUL characters, unpaired surrogates, NaN and
    infinite numbers, anywhere in a JSON body, a form or the query string (400 naming the field)."""

    def parse_body(self, request):
        data = json.loads(request.body, parse_constant=_refuse_non_finite, parse_float=_finite_float)
        if problems := _text_problems(data):
            raise BadInput(problems)  # ninja wraps it in an HttpError; the handler unwraps it
        return data

    def parse_querydict(self, data, list_fields, request):
        values = super().parse_querydict(data, list_fields, request)
        if problems := _text_problems(values):
            raise BadInput(problems)
        return values


def _query_names(operation) -> frozenset[str]:
    names: set[str] = set()
    for model in operation.models:
        if model.__ninja_param_source__ == "query":
            names.update(getattr(model, "__ninja_flatten_map__", None) or model.model_fields)
    return frozenset(names)


def _refuse_unknown_input(run):
    """Wrap an operation: note query parameters it does not declare, and unstorable text in its path."""
    operation = inspect.unwrap(run).__self__
    declared = _query_names(operation)

    @wraps(run)
    def checked(request, *args, **kwargs):
        problems = {name: _("Unknown query parameter.") for name in request.GET if name not in declared}
        problems.update(_text_problems({name: value for name, value in kwargs.items() if isinstance(value, str)}))
        # Answered once the caller is authenticated and the gate has let them in (``refuse_input_problems``),
        # so that a refused caller learns nothing about their input.
        request.input_problems = problems
        return run(request, *args, **kwargs)

    return checked


def refuse_input_problems(request) -> None:
    """Raise the 400 for the unknown query parameters or unstorable path text an API request carries."""
    problems = getattr(request, "input_problems", None)
    if problems:
        raise BadInput(problems)


class CaravaneAPI(NinjaAPI):
    """The NinjaAPI with Caravane's input guards and error contract on every operation, so that no router can
    forget them: unknown query parameters and unstorable text refused (400), every failure a JSON ``Error``,
    and the statuses any operation may answer declared in the OpenAPI document."""

    def __init__(self, **kwargs):
        super().__init__(parser=CheckedParser(), **kwargs)
        install_error_handlers(self)
        self.add_decorator(_refuse_unknown_input, mode="view")

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        self._add_error_schema(schema.setdefault("components", {}).setdefault("schemas", {}))
        for operations in schema["paths"].values():
            for operation in operations.values():
                errors = {**STANDARD_ERRORS, **(BODY_ERRORS if "requestBody" in operation else {})}
                for status, description in errors.items():
                    operation["responses"].setdefault(status, {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        return schema

    @staticmethod
    def _add_error_schema(components: dict) -> None:
        if "Error" in components:
            return
        error = Error.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(error.pop("$defs", {}))
        components["Error"] = error


@csrf_exempt  # it changes nothing, so a POST without a CSRF token gets this 404 rather than an HTML 403
def api_not_found(request):
    """A JSON 404 for an /api/ address that names no endpoint (Django would answer with an HTML page)."""
    return JsonResponse({"detail": _("No API endpoint at this address."), "errors": []}, status=404)


def _status_message(status: int, response) -> str:
    if status == 404:
        return _("No API endpoint at this address.")
    if status == 405:
        return _("Method not allowed here; allowed: %(methods)s.") % {"methods": response.get("Allow", "")}
    if status == 413:
        return _("The request body is too large.")
    if status >= 500:
        return _("Internal error: it has been logged. Try again later.")
    if status == 403:
        return _("You do not have permission to do this.")
    return _("The request could not be read.")


class ApiErrorsMiddleware:
    """Every error under /api/ is a JSON ``Error``, also those that Django or ninja answer in HTML or plain text
    (a 405, a CSRF failure, a DEBUG-mode traceback page): a client reads one format, and no traceback leaks."""

    KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (response.status_code < 400 or not request.path.startswith(API_PREFIX)
                or response.get("Content-Type", "").startswith("application/json")):
            return response
        answer = JsonResponse({"detail": _status_message(response.status_code, response), "errors": []},
                              status=response.status_code)
        for header in self.KEPT_HEADERS:
            if header in response:
                answer[header] = response[header]
        return answer


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


MAX_PAGE = 1_000_000  # keeps the row offset within what the databases' integers hold


class PageNumber(PaginationBase):
    """``?page=&page_size=`` pagination with the total count and links to the neighbouring pages."""

    items_attribute = "results"

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE, description=f"Page number, from 1 (at most {MAX_PAGE:,}); "
                                                            "past the last page, the page is empty.")
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


def rendered(schema: type[Schema], result) -> bytes:
    """The JSON body ninja renders for ``result`` answered under the response ``schema`` (the read lane's)."""
    return json.dumps(schema.model_validate(result).model_dump(), cls=NinjaJSONEncoder).encode()
