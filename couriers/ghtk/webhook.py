"""Verification and parsing of GHTK's status webhooks (couriers.md §2.5)."""

from __future__ import annotations

import datetime
import hmac
import json
import math
from collections.abc import Mapping
from urllib.parse import parse_qsl

from couriers.base import MAX_VND, Event, Request, Status, WebhookFieldInvalid, WebhookRejected
from couriers.ghtk.statuses import DELIVERED, SHIPPER_REPORTS, STATUSES, status_text

COURIER = "ghtk"
# GHTK sends Vietnamese local time with +07:00; a value without an offset is read in the same zone.
VIETNAM = datetime.timezone(datetime.timedelta(hours=7))
MAX_BODY = 64 * 1024


def verify(request: Request, secret: str) -> None:
    """GHTK signs nothing: the secret lives in the registered URL (`?hash=`), so only the owner of it can post."""
    supplied = request.query.get("hash")
    # An empty configured secret would accept `?hash=` from anyone.
    if not secret or supplied is None or not hmac.compare_digest(supplied.encode(), secret.encode()):
        raise WebhookRejected("GHTK webhook without the registered hash")


def _fields(request: Request) -> Mapping[str, str]:
    if len(request.body) > MAX_BODY:
        raise WebhookRejected("GHTK webhook body too large")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("GHTK webhook body is not UTF-8") from None
    # The documented format is form-urlencoded; the docs also show the same data as JSON.
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(text)
        except ValueError:
            raise WebhookRejected("GHTK webhook body is not JSON") from None
        if not isinstance(data, dict):
            raise WebhookRejected("GHTK webhook body is not an object")
        return {key: "" if value is None else str(value) for key, value in data.items()}
    try:
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
    except ValueError:
        raise WebhookRejected("GHTK webhook body is not form-urlencoded") from None


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise WebhookRejected(f"GHTK webhook without {name}")
    return value


def _int(fields: Mapping[str, str], name: str, low: int = 0, high: int = MAX_VND) -> int | None:
    """A whole number, None when absent. Not a number: malformed (401). Out of `low..high`, "1e400" included:
    a 422 naming the field, since no parcel has such an amount and storing it would overflow."""
    raw = fields.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        try:
            # Money sometimes arrives as "150000.0"; VND has no fractions.
            number = float(raw)
        except ValueError:
            raise WebhookRejected(f"GHTK webhook {name} is not a number: {raw[:40]!r}") from None
        if math.isnan(number):
            raise WebhookRejected(f"GHTK webhook {name} is not a number: {raw[:40]!r}") from None
        value = int(number) if math.isfinite(number) else high + 1  # "1e400": beyond any bound
    if not low <= value <= high:
        raise WebhookFieldInvalid(name, f"must be from {low} to {high}, not {raw[:40]}")
    return value


def _time(raw: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw else raw)
    except ValueError:
        raise WebhookRejected(f"GHTK webhook action_time is not ISO 8601: {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM)


def parse(request: Request, secret: str) -> list[Event]:
    """The events in one verified GHTK webhook: one, or none for a shipper's report."""
    verify(request, secret)
    fields = _fields(request)
    label = _required(fields, "label_id")
    status_id = _int(fields, "status_id", low=-(10**6), high=10**6)
    if status_id is None:
        raise WebhookRejected("GHTK webhook without status_id")
    if status_id not in STATUSES:
        # Applying a guess could move the parcel up the ladder for good; better that GHTK's retry fails loudly.
        raise WebhookRejected(f"GHTK webhook with an undocumented status_id {status_id}")
    occurred_at = _time(_required(fields, "action_time"))
    pick_money = _int(fields, "pick_money")
    _int(fields, "fee")  # validated only: a malformed number means a malformed webhook
    if status_id in SHIPPER_REPORTS:
        return []
    status, raw_status = STATUSES[status_id][0], str(status_id)
    partial = status_id in DELIVERED and fields.get("return_part_package", "").strip() == "1"
    if partial:
        status = Status.PARTIALLY_DELIVERED
    reason = fields.get("reason", "").strip()
    return [
        Event(
            courier=COURIER,
            # §2.5: dedupe on label_id + status_id + action_time; the time is normalised so that the same
            # instant written two ways is still one event.
            event_key=f"{label}|{status_id}|{occurred_at.astimezone(datetime.UTC).isoformat()}",
            tracking_code=label,
            client_code=fields.get("partner_id", "").strip() or None,
            status=status,
            raw_status=raw_status,
            occurred_at=occurred_at,
            cod_collected=pick_money if status_id in DELIVERED else None,
            partial=partial,
            message=f"{status_text(status_id)}: {reason}" if reason else status_text(status_id),
        )
    ]
