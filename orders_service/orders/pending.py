"""A cancel or merge that waits for the courier: while it holds a live parcel, the order keeps that parcel's COD.

The courier is the source of truth for a parcel it holds. Cancelling (COD 0) or merging (the COD moves to the
survivor) while the courier may still deliver the old parcel would collect twice, or give the goods away. So
the request only marks the order (`pending_cancel`); the relay asks the courier to cancel, and the cancel or
merge is completed when the courier confirms (shipping/cancels.py), or dropped when it refuses.
"""

from __future__ import annotations

import datetime
import enum
from uuid import UUID

import msgspec

from couriers.base import Status
from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import Actor, ActorKind


class Purpose(enum.StrEnum):
    CANCEL = "cancel"
    MERGE = "merge"


class By(msgspec.Struct, frozen=True):
    kind: str
    id: str | None = None


class PendingCancel(msgspec.Struct, frozen=True, kw_only=True):
    """What the order waits for, as stored in `orders.pending_cancel` and shown in the order's response."""

    requested_at: datetime.datetime
    by: By
    reason: str | None = None
    purpose: Purpose = msgspec.field(default=Purpose.CANCEL, name="for")
    into: UUID | None = None  # merge: the survivor
    # merge: the survivor takes this order's recipient, or its address, when it is merged in
    recipient: bool = False
    address: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(kind=ActorKind(self.by.kind), id=self.by.id)


def has_live_parcel(row: OrderRow) -> bool:
    """The courier may hold a parcel for it: one with a tracking code, or a create that may have reached it."""
    shipment = row.shipment
    if shipment is None or shipment.status == str(Status.CANCELLED):
        return False
    return shipment.tracking_code is not None or shipment.create_attempted


def pending_of(row: OrderRow) -> PendingCancel | None:
    return None if not row.pending_cancel else msgspec.convert(row.pending_cancel, PendingCancel, strict=False)


def mark(
    row: OrderRow,
    actor: Actor,
    reason: str | None,
    purpose: Purpose,
    now: datetime.datetime,
    *,
    into: UUID | None = None,
    recipient: bool = False,
    address: bool = False,
) -> PendingCancel:
    pending = PendingCancel(
        requested_at=now,
        by=By(kind=str(actor.kind), id=actor.id),
        reason=reason,
        purpose=purpose,
        into=into,
        recipient=recipient,
        address=address,
    )
    row.pending_cancel = msgspec.to_builtins(pending)
    return pending


def waiting_reason(row: OrderRow) -> str | None:
    """Why the order takes no other change now, or None when nothing waits."""
    pending = pending_of(row)
    if pending is None:
        return None
    courier = (row.shipment.courier if row.shipment is not None else row.courier).upper()
    what = "cancellation" if pending.purpose is Purpose.CANCEL else "cancellation for a merge"
    return f"the order waits for {courier} to confirm the {what} of its parcel"
