"""Verification and parsing of GHN's order webhooks (couriers.md §1.7)."""

from __future__ import annotations

import datetime
import hmac
from typing import Annotated

import msgspec

from couriers.base import MAX_VND, Event, Request, Status, WebhookRejected, out_of_range
from couriers.ghn.statuses import INCIDENTS, label, status_of

COURIER = "ghn"
# GHN's example carries "Z"; a value without an offset is read as Vietnamese local time, as for GHTK.
VIETNAM = datetime.timezone(datetime.timedelta(hours=7))
MAX_BODY = 64 * 1024


class GhnWebhook(msgspec.Struct, kw_only=True):
    """The fields we use of GHN's PascalCase payload; the others (Fee, Weight, Warehouse...) are ignored."""

    order_code: str = msgspec.field(name="OrderCode")
    status: str = msgspec.field(name="Status")
    time: datetime.datetime = msgspec.field(name="Time")
    type: str = msgspec.field(default="switch_status", name="Type")
    client_order_code: str | None = msgspec.field(default=None, name="ClientOrderCode")
    shop_id: int | None = msgspec.field(default=None, name="ShopID")
    description: str | None = msgspec.field(default=None, name="Description")
    reason: str | None = msgspec.field(default=None, name="Reason")
    reason_code: str | None = msgspec.field(default=None, name="ReasonCode")
    cod_amount: Annotated[int, msgspec.Meta(ge=0, le=MAX_VND)] | None = msgspec.field(default=None, name="CODAmount")
    is_partial_return: bool = msgspec.field(default=False, name="IsPartialReturn")
    partial_return_code: str | None = msgspec.field(default=None, name="PartialReturnCode")


def verify(request: Request, secret: str) -> None:
    """GHN signs nothing: the secret lives in the registered URL (`?token=`), so only the owner of it can post."""
    supplied = request.query.get("token")
    # An empty configured secret would accept `?token=` from anyone.
    if not secret or supplied is None or not hmac.compare_digest(supplied.encode(), secret.encode()):
        raise WebhookRejected("GHN webhook without the registered token")


def parse(request: Request, *, secret: str, shop_id: int) -> list[Event]:
    verify(request, secret)
    if len(request.body) > MAX_BODY:
        raise WebhookRejected("GHN webhook body too large")
    try:
        # Lax: integrators have seen ShopID and amounts sent as strings.
        hook = msgspec.json.decode(request.body, type=GhnWebhook, strict=False)
    except msgspec.ValidationError as exc:  # well-formed JSON, a field out of range (CODAmount 10^25)
        raise out_of_range(exc) or WebhookRejected(f"malformed GHN webhook: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise WebhookRejected(f"malformed GHN webhook: {exc}") from exc
    if not hook.order_code.strip():
        raise WebhookRejected("GHN webhook without OrderCode")
    if hook.shop_id is not None and hook.shop_id != shop_id:
        raise WebhookRejected(f"GHN webhook for another shop ({hook.shop_id})")
    raw = hook.status.strip().lower()
    status = status_of(raw, partial=hook.is_partial_return)
    if status is None:
        raise WebhookRejected(f"GHN webhook with an unknown status {hook.status!r}")
    occurred = hook.time if hook.time.tzinfo else hook.time.replace(tzinfo=VIETNAM)
    kind = hook.type.strip().lower()
    # GHN documents no event id: (OrderCode, Type, Status, Time) is what a replay repeats (couriers.md §1.7).
    key = "|".join((hook.order_code, kind, raw, occurred.astimezone(datetime.UTC).isoformat()))
    return [
        Event(
            courier=COURIER,
            event_key=key,
            tracking_code=hook.order_code,
            client_code=hook.client_order_code or None,
            status=status,
            raw_status=raw,
            occurred_at=occurred,
            # CODAmount on other types is the amount to collect (update_cod), not what the driver collected.
            cod_collected=hook.cod_amount if status in (Status.DELIVERED, Status.PARTIALLY_DELIVERED) else None,
            partial=hook.is_partial_return,
            message=_message(raw, hook),
            return_code=(hook.partial_return_code or "").strip() or None,
        )
    ]


def _message(raw: str, hook: GhnWebhook) -> str | None:
    parts = [
        f"GHN {raw} ({label(raw)})" if raw in INCIDENTS else None,
        hook.description,
        hook.reason,
        f"reason code {hook.reason_code}" if hook.reason_code else None,
        # GHN does not say which items came back; the return travels under this new order code.
        f"partial return order {hook.partial_return_code}" if hook.partial_return_code else None,
    ]
    return "; ".join(part for part in parts if part) or None
