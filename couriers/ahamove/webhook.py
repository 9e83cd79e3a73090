"""Verification and parsing of Ahamove's order webhooks (couriers.md §5): the full order object, authenticated by
the header the partner chose when registering its URL (an API key, a Bearer token, or Basic)."""

from __future__ import annotations

import base64
import datetime
import hmac
import math
from typing import Annotated

import msgspec

from couriers.ahamove.statuses import DROP_FAILED, raw_status, status_of
from couriers.base import MAX_VND, Event, Request, Status, WebhookRejected, out_of_range

COURIER = "ahamove"
AUTH_METHODS = ("apikey", "bearer", "basic")
MAX_BODY = 128 * 1024  # the whole order, its path and items
Money = Annotated[int, msgspec.Meta(ge=0, le=MAX_VND)]
Epoch = Annotated[float, msgspec.Meta(ge=0, le=10**11)]  # Ahamove's times are Unix seconds


class Point(msgspec.Struct, kw_only=True):
    status: str | None = None
    cod: Money | None = None
    tracking_number: str | None = None
    complete_time: Epoch | None = None
    fail_time: Epoch | None = None
    return_time: Epoch | None = None
    fail_comment: str | None = None


class AhamoveOrder(msgspec.Struct, kw_only=True):
    """The fields we use of the order object; the rest (items, fees, driver...) are ignored."""

    id: str = msgspec.field(name="_id")
    status: str
    path: list[Point] = msgspec.field(default_factory=list)
    create_time: Epoch | None = None
    accept_time: Epoch | None = None
    pickup_time: Epoch | None = None
    complete_time: Epoch | None = None
    cancel_time: Epoch | None = None
    cancel_by_user: bool | None = None
    cancel_comment: str | None = None


def verify(request: Request, method: str, secret: str, header: str) -> None:
    """The header Ahamove sends as registered: `<header>: <secret>`, `Authorization: Bearer <secret>` or
    `Authorization: Basic base64(<secret>)` where the secret is `user:password`."""
    if not secret:  # an empty configured secret would accept an empty header from anyone
        raise WebhookRejected("no Ahamove webhook secret is configured")
    if method == "apikey":
        supplied, expected = request.headers.get(header.lower(), ""), secret
    else:
        supplied = request.headers.get("authorization", "")
        encoded = secret if method == "bearer" else base64.b64encode(secret.encode()).decode()
        expected = f"{'Bearer' if method == 'bearer' else 'Basic'} {encoded}"
    if not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise WebhookRejected("Ahamove webhook without the registered authorization")


def _decode(request: Request) -> AhamoveOrder:
    if len(request.body) > MAX_BODY:
        raise WebhookRejected("Ahamove webhook body too large")
    try:
        return msgspec.json.decode(request.body, type=AhamoveOrder, strict=False)
    except msgspec.ValidationError as exc:  # verified already: a field out of range is a 422 naming it
        raise out_of_range(exc) or WebhookRejected(f"malformed Ahamove webhook: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise WebhookRejected(f"malformed Ahamove webhook: {exc}") from exc


def _moment(order: AhamoveOrder, drop: Point | None) -> datetime.datetime:
    """The latest time the order carries: what moved last. Ahamove documents no event time of its own."""
    times = [order.create_time, order.accept_time, order.pickup_time, order.complete_time, order.cancel_time]
    if drop is not None:
        times += [drop.complete_time, drop.fail_time, drop.return_time]
    known = [t for t in times if t is not None and math.isfinite(t)]
    if not known:
        raise WebhookRejected("Ahamove webhook without any time")
    return datetime.datetime.fromtimestamp(max(known), datetime.UTC)


def parse(request: Request, *, method: str, secret: str, header: str) -> list[Event]:
    verify(request, method, secret, header)
    order = _decode(request)
    if not order.id.strip():
        raise WebhookRejected("Ahamove webhook without _id")
    drop = order.path[1] if len(order.path) > 1 else None
    point_status = drop.status if drop is not None else None
    status = status_of(order.status, point_status)
    if status is None:
        raise WebhookRejected(f"Ahamove webhook with an unknown status {order.status!r}")
    raw = raw_status(order.status, point_status)
    occurred = _moment(order, drop)
    delivered = status is Status.DELIVERED and drop is not None
    parts = [
        f"Ahamove {raw}",
        drop.fail_comment if drop is not None and (drop.status or "").upper() == DROP_FAILED else None,
        order.cancel_comment if status is Status.CANCELLED else None,
        "cancelled by the shop" if status is Status.CANCELLED and order.cancel_by_user else None,
    ]
    return [
        Event(
            courier=COURIER,
            event_key=f"{order.id}|{raw}|{occurred.isoformat()}",
            tracking_code=order.id,
            client_code=(drop.tracking_number or "").strip() or None if drop is not None else None,
            status=status,
            raw_status=raw,
            occurred_at=occurred,
            cod_collected=drop.cod if delivered and drop is not None else None,
            message="; ".join(part for part in parts if part),
        )
    ]
