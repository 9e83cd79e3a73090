"""RFC 9457 problem details for every error, with domain errors mapped to HTTP in one table."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy import exc as sa
from sqlalchemy.exc import IntegrityError

from orders_service.auth.errors import LastAdminKey
from orders_service.db.engine import DatabaseBusy
from orders_service.domain import errors as e
from orders_service.links.rules import LinkExpired

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://orders-service.dev/problems/"


class FieldError(msgspec.Struct):
    field: str
    message: str


class OrderConflict(msgspec.Struct):
    order_id: str
    reason: str


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    current_version: int | None = None
    customer_id: str | None = None
    conflicts: list[OrderConflict] | None = None


# domain error -> (status, type slug, title)
DOMAIN_PROBLEMS: dict[type[e.DomainError], tuple[int, str, str]] = {
    LinkExpired: (410, "link-expired", "The link has expired"),
    LastAdminKey: (409, "last-admin-key", "The last active admin key cannot be revoked"),
    e.InvalidField: (422, "validation", "Invalid input"),
    e.OrderNotAmendable: (409, "not-amendable", "The order cannot be changed this way"),
    e.OrdersConflict: (409, "orders-conflict", "These orders cannot be combined this way"),
    e.InvalidTransition: (409, "invalid-transition", "The order cannot move to that status"),
    e.NotFound: (404, "not-found", "Not found"),
    e.VersionMismatch: (412, "version-mismatch", "The order changed meanwhile"),
    e.PreconditionRequired: (428, "precondition-required", "If-Match is required"),
    e.PhoneTaken: (409, "phone-taken", "That phone already belongs to a customer"),
    e.IdentityTaken: (409, "identity-taken", "That email or buyer id already belongs to a customer"),
    e.CustomerMerged: (409, "customer-merged", "That customer was merged into another one"),
    e.OutOfStock: (409, "out-of-stock", "Not enough stock"),
    e.ProductExists: (409, "product-exists", "That SKU is already in the catalogue"),
}

BODY = "body"  # the field name of the request body as a whole
_UNREADABLE_BODY = "the request body is not valid UTF-8 JSON"


class InvalidBody(ValidationException):
    """A request body that does not fit its handler's type, naming the field (orders_service.infra.strict_body).

    The field comes from walking the body along its type (orders_service.infra.invalid_field), never from
    msgspec's error text; `malformed` (no body at all) makes it a 400 rather than a 422.
    """

    def __init__(self, field: str, message: str, *, malformed: bool = False) -> None:
        # `extra` as Litestar shapes it, for handlers that read it (the dashboard's error page).
        super().__init__(detail=f"{field}: {message}", extra=[{"key": field, "message": message, "source": "body"}])
        self.error = FieldError(field=field, message=message)
        self.malformed = malformed


def problem_response(problem: Problem) -> Response[Any]:
    return Response(content=problem, status_code=problem.status, media_type=PROBLEM_JSON)


def domain_error_handler(_: Request[Any, Any, Any], exc: e.DomainError) -> Response[Any]:
    status, slug, title = next(
        (v for k, v in DOMAIN_PROBLEMS.items() if isinstance(exc, k)), (400, "bad-request", "Bad request")
    )
    problem = Problem(type=TYPE_BASE + slug, title=title, status=status, detail=exc.detail)
    if isinstance(exc, e.InvalidField | e.OutOfStock | e.ProductExists):
        problem.errors = [FieldError(field=exc.field, message=exc.message)]
    elif isinstance(exc, e.VersionMismatch):
        problem.current_version = exc.current
    elif isinstance(exc, e.PhoneTaken | e.IdentityTaken):
        problem.customer_id = exc.customer_id
    elif isinstance(exc, e.CustomerMerged):
        problem.customer_id = exc.customer_id
        problem.errors = [FieldError(field=exc.field, message=exc.detail)]
    elif isinstance(exc, e.OrdersConflict):
        problem.conflicts = [OrderConflict(order_id=order, reason=reason) for order, reason in exc.conflicts]
    return problem_response(problem)


def _parameter_error(item: dict[str, Any]) -> FieldError:
    """One of Litestar's own validation errors, for a query, path or header parameter: `{key, message, source}`.

    Litestar calls the request body `data`; a header is named as it is sent (`if_match` -> `If-Match`).
    """
    key = "" if item.get("key") is None else str(item["key"])
    source = item.get("source")
    if getattr(source, "value", source) == "header" and key:
        key = "-".join(part.capitalize() for part in key.split("_"))
    field = BODY if key in ("", "data") else key
    return FieldError(field=field, message=str(item.get("message", "")).strip() or "invalid value")


def _field_errors(exc: ValidationException) -> tuple[list[FieldError], bool]:
    """The field errors of a validation failure, and whether the body was missing (a 400, not a 422)."""
    if isinstance(exc, InvalidBody):
        return [exc.error], exc.malformed
    extra = exc.extra if isinstance(exc.extra, list) else []
    return [_parameter_error(item) for item in extra if isinstance(item, dict)], False


def _malformed(message: str) -> Response[Any]:
    message = message.strip() or _UNREADABLE_BODY
    problem = Problem(
        type=TYPE_BASE + "malformed",
        title="Malformed request",
        status=400,
        detail=f"the request body is not a JSON document: {message}",
        errors=[FieldError(field=BODY, message=message)],
    )
    return problem_response(problem)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        errors, malformed = _field_errors(exc)
        # Malformed or missing JSON is a 400; well-formed JSON with wrong or out-of-range values is a 422.
        status = 400 if malformed else 422
        # Not exc.detail when there are errors: Litestar's quotes the request's URL, which the client chooses.
        detail = "; ".join(f"{err.field}: {err.message}" for err in errors) or exc.detail
        problem = Problem(
            type=TYPE_BASE + ("malformed" if malformed else "validation"),
            title="Malformed request" if malformed else "Invalid input",
            status=status,
            detail=detail,
            errors=errors or None,
        )
        return problem_response(problem)
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        # Litestar turns a body msgspec cannot decode (truncated, not JSON, ...) into a bare 400.
        return _malformed(str(exc.detail))
    if status >= 500:
        log.error("server error on %s %s", request.method, request.url.path, exc_info=exc)
    slug = {
        401: "unauthorized",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        413: "too-large",
        429: "rate-limited",
    }.get(status, "http")
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


def busy_handler(_: Request[Any, Any, Any], exc: DatabaseBusy) -> Response[Any]:
    problem = Problem(type=TYPE_BASE + "busy", title="Busy", status=503, detail=str(exc))
    return Response(content=problem, status_code=503, media_type=PROBLEM_JSON, headers={"Retry-After": "1"})


def conflict_handler(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[Any]:
    # Unique keys catch what two concurrent requests both checked and both found free (a phone, a key).
    log.info("integrity conflict on %s %s: %s", request.method, request.url.path, exc.orig)
    problem = Problem(
        type=TYPE_BASE + "conflict",
        title="Conflict",
        status=409,
        detail="a concurrent request changed the same data; nothing was saved, try again",
    )
    return problem_response(problem)


def unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database went away (a restart, a failover, a full pool): a 503 to retry, not a 500 to report."""
    if isinstance(exc, sa.DBAPIError) and not isinstance(exc, DATABASE_DOWN) and not exc.connection_invalidated:
        return internal_error_handler(request, exc)
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
    problem = Problem(
        type=TYPE_BASE + "unavailable",
        title="Database unavailable",
        status=503,
        detail="the database did not answer; try again in a moment (a change that went through shows in the version)",
    )
    return Response(content=problem, status_code=503, media_type=PROBLEM_JSON, headers={"Retry-After": "2"})


def commit_failed_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The handler's work did not commit (orders_service.infra.commit): a 503 to retry in place of its answer."""
    log.error("commit failed on %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
    problem = Problem(
        type=TYPE_BASE + "not-saved",
        title="The change was not saved",
        status=503,
        detail="the database did not confirm the change; try again in a moment "
        "(a change that went through after all shows in the version)",
    )
    return Response(content=problem, status_code=503, media_type=PROBLEM_JSON, headers={"Retry-After": "2"})


# What a driver raises when the database cannot be reached or dropped the connection. asyncpg's own errors reach
# us unwrapped when they happen while connecting; SQLAlchemy wraps those raised on an open connection.
DATABASE_DOWN = (
    ConnectionError,
    sa.OperationalError,
    sa.InterfaceError,
    sa.TimeoutError,
    asyncpg.PostgresConnectionError,
    # The server ended the session: a shutdown, a crash, an administrator's pg_terminate_backend, a timeout.
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)

EXCEPTION_HANDLERS: dict[Any, Any] = {
    e.DomainError: domain_error_handler,
    DatabaseBusy: busy_handler,
    sa.DBAPIError: unavailable_handler,  # only when the connection was lost; other driver errors stay a 500
    **dict.fromkeys(DATABASE_DOWN, unavailable_handler),
    IntegrityError: conflict_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "Problem"]
