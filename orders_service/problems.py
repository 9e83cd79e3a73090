"""RFC 9457 problem details for every error, with domain errors mapped to HTTP in one table."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from orders_service.domain import errors as e

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://orders-service.dev/problems/"


class FieldError(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    current_version: int | None = None
    customer_id: str | None = None


# domain error -> (status, type slug, title)
DOMAIN_PROBLEMS: dict[type[e.DomainError], tuple[int, str, str]] = {
    e.InvalidField: (422, "validation", "Invalid input"),
    e.InvalidFields: (422, "validation", "Invalid input"),
    e.OrderNotAmendable: (409, "not-amendable", "The order cannot be changed this way"),
    e.InvalidTransition: (409, "invalid-transition", "The order cannot move to that status"),
    e.NotFound: (404, "not-found", "Not found"),
    e.VersionMismatch: (412, "version-mismatch", "The order changed meanwhile"),
    e.PreconditionRequired: (428, "precondition-required", "If-Match is required"),
    e.PhoneTaken: (409, "phone-taken", "That phone already belongs to a customer"),
}

_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.DOTALL)


def problem_response(problem: Problem) -> Response[Any]:
    return Response(content=problem, status_code=problem.status, media_type=PROBLEM_JSON)


def domain_error_handler(_: Request[Any, Any, Any], exc: e.DomainError) -> Response[Any]:
    status, slug, title = next(
        (v for k, v in DOMAIN_PROBLEMS.items() if isinstance(exc, k)), (400, "bad-request", "Bad request")
    )
    problem = Problem(type=TYPE_BASE + slug, title=title, status=status, detail=exc.detail)
    if isinstance(exc, e.InvalidField):
        problem.errors = [FieldError(field=exc.field, message=exc.message)]
    elif isinstance(exc, e.InvalidFields):
        problem.errors = [FieldError(field=err.field, message=err.message) for err in exc.errors]
    elif isinstance(exc, e.VersionMismatch):
        problem.current_version = exc.current
    elif isinstance(exc, e.PhoneTaken):
        problem.customer_id = exc.customer_id
    return problem_response(problem)


def _field_errors(exc: ValidationException) -> list[FieldError]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    found = []
    for item in extra:
        if not isinstance(item, dict):
            continue
        match = _AT_PATH.match(str(item.get("message", "")))
        message = match.group("message") if match else str(item.get("message"))
        path = match.group("path") if match and match.group("path") is not None else None
        field = path if path is not None else str(item.get("key") or "body")
        found.append(FieldError(field=field or "body", message=message))
    if not found and exc.detail:
        match = _AT_PATH.match(exc.detail)
        if match and match.group("path") is not None:
            found.append(FieldError(field=match.group("path") or "body", message=match.group("message")))
    return found


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        errors = _field_errors(exc)
        malformed = (
            any(err.message.startswith(("JSON is malformed", "Input data was truncated")) for err in errors)
            or "malformed" in exc.detail.lower()
        )
        # Malformed JSON is a 400; well-formed JSON with wrong or out-of-range values is a 422.
        status = 400 if malformed else 422
        detail = "; ".join(f"{err.field}: {err.message}" for err in errors) or exc.detail
        problem = Problem(
            type=TYPE_BASE + ("malformed" if malformed else "validation"),
            title="Malformed request" if malformed else "Invalid input",
            status=status,
            detail=detail,
            errors=errors or None,
        )
        return problem_response(problem)
    if status >= 500:
        log.error("server error on %s %s", request.method, request.url.path, exc_info=exc)
    slug = {401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed"}.get(status, "http")
    title = {401: "Authentication required", 403: "Not allowed"}.get(status, exc.detail or "Error")
    response = problem_response(Problem(type=TYPE_BASE + slug, title=title, status=status, detail=exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    problem = Problem(
        type=TYPE_BASE + "internal",
        title="Internal error",
        status=500,
        detail="something went wrong on our side; nothing was changed",
    )
    return Response(content=problem, status_code=HTTP_500_INTERNAL_SERVER_ERROR, media_type=PROBLEM_JSON)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    e.DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "MediaType", "Problem"]
