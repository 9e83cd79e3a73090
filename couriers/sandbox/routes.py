"""HTTP routes of the sandbox courier: thin handlers over SandboxService, Bearer auth, problem details."""

from __future__ import annotations

import hmac
import logging
from http import HTTPStatus
from typing import Annotated, Any, TypeAlias

from litestar import Request, Response, get, patch, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler, ExceptionHandlersMap

from couriers.sandbox.rules import PROBLEM_BASE, SandboxError
from couriers.sandbox.schemas import (
    CreatedOut,
    EventIn,
    EventOut,
    FaultsIn,
    FaultsOut,
    FieldError,
    Problem,
    QuoteIn,
    QuoteOut,
    Shipment,
    ShipmentIn,
    ShipmentPatch,
)
from couriers.sandbox.service import SandboxService

log = logging.getLogger(__name__)
Sandbox: TypeAlias = NamedDependency[SandboxService]
PROBLEM_JSON = "application/problem+json"
# Test drivers read parcels and post events with the API token or, when the serving app checks them, a key of
# its own (the service accepts its staff and admin API keys): a parcel view shows the recipient's phones and
# address, and a driver event completes an order.
DRIVER = {"driver": True}
ClientCode = Annotated[str, QueryParameter(min_length=1, max_length=50, description="the shop's client_code")]


async def require_token(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    sandbox: SandboxService = connection.app.state["sandbox"]
    scheme, _, given = connection.headers.get("authorization", "").partition(" ")
    given = given.strip()
    if scheme.lower() == "bearer" and given:
        if hmac.compare_digest(given.encode(), sandbox.config.token.encode()):
            return
        driver_key = sandbox.config.driver_key
        if handler.opt.get("driver") and driver_key is not None and await driver_key(given):
            return
    wanted = "<token> or <API key>" if handler.opt.get("driver") else "<token>"
    raise NotAuthorizedException(f"send Authorization: Bearer {wanted}")


@post(
    "/shipments",
    summary="Create a parcel",
    description="A client_code already used is a 409 whose problem names the existing tracking_code.",
    status_code=201,
)
async def create_shipment(sandbox: Sandbox, data: JSONBody[ShipmentIn]) -> CreatedOut:
    await sandbox.enter("create")
    return await sandbox.create(data)


@get("/shipments", summary="Find the parcel created under a client_code")
async def find_shipment(sandbox: Sandbox, client_code: ClientCode) -> Shipment:
    await sandbox.enter("lookup")
    return sandbox.find(client_code)


@get("/shipments/{tracking_code:str}", summary="The courier's view of a parcel", opt=DRIVER)
async def get_shipment(sandbox: Sandbox, tracking_code: FromPath[str]) -> Shipment:
    await sandbox.enter("detail")
    return sandbox.get(tracking_code)


@patch(
    "/shipments/{tracking_code:str}",
    summary="Change recipient, phones, address, COD or items",
    description="GHN's rules: recipient, phones, address and COD until the parcel is out for delivery (again after "
    "a failed delivery); items only before pickup; nothing once cancelled, delivered or returned. Otherwise 409.",
)
async def update_shipment(sandbox: Sandbox, tracking_code: FromPath[str], data: JSONBody[ShipmentPatch]) -> Shipment:
    await sandbox.enter("update")
    return await sandbox.update(tracking_code, data)


@post("/shipments/{tracking_code:str}/cancel", summary="Cancel a parcel not yet picked up", status_code=200)
async def cancel_shipment(sandbox: Sandbox, tracking_code: FromPath[str]) -> Shipment:
    await sandbox.enter("cancel")
    return await sandbox.cancel(tracking_code)


@post("/quote", summary="The fee for a parcel", status_code=200)
async def quote(sandbox: Sandbox, data: JSONBody[QuoteIn]) -> QuoteOut:
    await sandbox.enter("quote")
    return sandbox.quote(data)


@post(
    "/shipments/{tracking_code:str}/events",
    summary="Test driver: move a parcel and send the signed webhook",
    description="created -> picked -> in_transit -> out_for_delivery -> delivered | delivery_failed, skipped steps "
    "implied; delivery_failed -> out_for_delivery | returned. Anything else is a 409. `kept` (delivered only) lists "
    "what the customer kept; fewer than sent is a partial delivery. The webhook (Standard Webhooks, per-parcel `seq`) "
    "is retried with backoff before this answers.",
    status_code=200,
    opt=DRIVER,
)
async def post_event(sandbox: Sandbox, tracking_code: FromPath[str], data: JSONBody[EventIn]) -> EventOut:
    sandbox.calls["event"] += 1  # the driver is not the courier API: no injected faults here
    return await sandbox.record_event(tracking_code, data)


@get("/_faults", summary="Faults set and calls counted per endpoint")
async def get_faults(sandbox: Sandbox) -> FaultsOut:
    return sandbox.faults_state()


@post("/_faults", summary="Inject faults into the next API calls", status_code=200)
async def set_faults(sandbox: Sandbox, data: JSONBody[FaultsIn]) -> FaultsOut:
    return sandbox.apply_faults(data)


ROUTES: list[ControllerRouterHandler] = [
    create_shipment,
    find_shipment,
    get_shipment,
    update_shipment,
    cancel_shipment,
    quote,
    post_event,
    get_faults,
    set_faults,
]


def _problem(problem: Problem, headers: dict[str, str] | None = None) -> Response[Problem]:
    return Response(content=problem, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def _sandbox_error(_: Request[Any, Any, Any], exc: SandboxError) -> Response[Problem]:
    return _problem(Problem(PROBLEM_BASE + exc.slug, exc.title, exc.status, exc.detail, exc.tracking_code))


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    # Litestar says 400 for a well-formed body with bad values; here, as in the service, that is a 422.
    errors = [
        # Litestar names the whole body after the handler's parameter, `data`.
        FieldError(field="body" if e.get("key") in (None, "", "data") else str(e["key"]), message=str(e.get("message")))
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or exc.detail
    return _problem(Problem(PROBLEM_BASE + "validation", "Invalid input", 422, detail, errors=errors or None))


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    headers = {"www-authenticate": "Bearer"} if exc.status_code == 401 else None
    title = HTTPStatus(exc.status_code).phrase
    slug = title.lower().replace(" ", "-")
    return _problem(Problem(PROBLEM_BASE + slug, title, exc.status_code, exc.detail), headers)


def _internal_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("sandbox courier failed", exc_info=exc)
    return _problem(Problem(PROBLEM_BASE + "internal", "Internal error", 500, "the sandbox courier failed"))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SandboxError: _sandbox_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _internal_error,
}
