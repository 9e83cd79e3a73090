"""Verification and parsing of Viettel Post's status webhooks (couriers.md §3.5)."""

from __future__ import annotations

import datetime
import hmac
from typing import Annotated

import msgspec

from couriers.base import MAX_VND, Event, Request, WebhookRejected, out_of_range
from couriers.viettelpost.statuses import DELIVERED, STATUSES, status_text

COURIER = "viettelpost"
# §3.5: ORDER_STATUSDATE is `dd/MM/yyyy HH:mm:ss`, Vietnamese local time without an offset.
VIETNAM = datetime.timezone(datetime.timedelta(hours=7))
DATE_FORMAT = "%d/%m/%Y %H:%M:%S"
MAX_BODY = 64 * 1024
Money = Annotated[int, msgspec.Meta(ge=0, le=MAX_VND)]


class VtpData(msgspec.Struct, kw_only=True):
    """The fields we use of `DATA`; the others (DETAIL, EMPLOYEE_*, EXPECTED_DELIVERY...) are ignored."""

    order_number: str = msgspec.field(name="ORDER_NUMBER")  # VTP's waybill
    order_status: int = msgspec.field(name="ORDER_STATUS")
    order_statusdate: str = msgspec.field(name="ORDER_STATUSDATE")
    order_reference: str | None = msgspec.field(default=None, name="ORDER_REFERENCE")  # our ORDER_NUMBER
    status_name: str | None = msgspec.field(default=None, name="STATUS_NAME")
    note: str | None = msgspec.field(default=None, name="NOTE")
    # The typo is VTP's own; some senders spell it right (§3.5).
    localion: str | None = msgspec.field(default=None, name="LOCALION_CURRENTLY")
    location: str | None = msgspec.field(default=None, name="LOCATION_CURRENTLY")
    money_collection: Money | None = msgspec.field(default=None, name="MONEY_COLLECTION")
    money_collection_origin: Money | None = msgspec.field(default=None, name="MONEY_COLLECTION_ORIGIN")
    money_totalfee: Money | None = msgspec.field(default=None, name="MONEY_TOTALFEE")
    money_total: Money | None = msgspec.field(default=None, name="MONEY_TOTAL")


class VtpWebhook(msgspec.Struct, kw_only=True):
    data: VtpData = msgspec.field(name="DATA")
    token: str = msgspec.field(default="", name="TOKEN")


def verify(supplied: str, secret: str) -> None:
    """§3.5: VTP puts the agreed secret in the body's TOKEN; nothing is signed."""
    # An empty configured secret would accept a TOKEN of "" from anyone.
    if not secret or not hmac.compare_digest(supplied.encode(), secret.encode()):
        raise WebhookRejected("Viettel Post webhook without the agreed TOKEN")


def _time(raw: str) -> datetime.datetime:
    try:
        return datetime.datetime.strptime(raw.strip(), DATE_FORMAT).replace(tzinfo=VIETNAM)
    except ValueError:
        raise WebhookRejected(
            f"Viettel Post webhook ORDER_STATUSDATE is not dd/MM/yyyy HH:mm:ss: {raw[:40]!r}"
        ) from None


def parse(request: Request, secret: str) -> list[Event]:
    """The one event of a verified VTP webhook."""
    hook = _checked(request, secret)
    data = hook.data
    code = data.order_number.strip()
    if not code:
        raise WebhookRejected("Viettel Post webhook without ORDER_NUMBER")
    if data.order_status not in STATUSES:
        # Applying a guess could move the parcel up the ladder for good; better that the webhook fails loudly.
        raise WebhookRejected(f"Viettel Post webhook with an undocumented ORDER_STATUS {data.order_status}")
    occurred = _time(data.order_statusdate)
    status = STATUSES[data.order_status][0]
    where = (data.localion or data.location or "").strip()
    parts = [data.status_name or status_text(data.order_status), (data.note or "").strip(), where]
    return [
        Event(
            courier=COURIER,
            # VTP documents no event id: waybill, status and time are what a resend repeats. Integrators drop
            # events older than the last applied (§3.5); our ladder never moves down, which does the same.
            event_key=f"{code}|{data.order_status}|{occurred.astimezone(datetime.UTC).isoformat()}",
            tracking_code=code,
            client_code=(data.order_reference or "").strip() or None,
            status=status,
            raw_status=str(data.order_status),
            occurred_at=occurred,
            cod_collected=data.money_collection if data.order_status == DELIVERED else None,
            message="; ".join(part for part in parts if part),
        )
    ]


def _checked(request: Request, secret: str) -> VtpWebhook:
    """The webhook, its TOKEN checked before anything it says is used; a number out of range after that is a 422."""
    if len(request.body) > MAX_BODY:
        raise WebhookRejected("Viettel Post webhook body too large")
    try:
        loose = msgspec.json.decode(request.body)
    except msgspec.DecodeError as exc:
        raise WebhookRejected(f"malformed Viettel Post webhook: {exc}") from exc
    if not isinstance(loose, dict):
        raise WebhookRejected("Viettel Post webhook body is not an object")
    verify(str(loose.get("TOKEN") or ""), secret)
    try:
        return msgspec.convert(loose, VtpWebhook, strict=False)
    except msgspec.ValidationError as exc:  # verified, with a field out of range (MONEY_COLLECTION 10^25)
        raise out_of_range(exc) or WebhookRejected(f"malformed Viettel Post webhook: {exc}") from exc
