"""The end of a cancel or merge that waited for the courier: completed once it confirmed, dropped if it refused.

Both run in the relay's (or a webhook's) transaction, with the order locked. Completion goes through the same
use cases as an order without a live parcel (services.cancel_now, family.merge_orders), so the money, points and
events are the same as for an immediate cancel or merge.
"""

from __future__ import annotations

import logging
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import Order as OrderRow
from orders_service.db.models import StaffAlert
from orders_service.domain.errors import DomainError
from orders_service.domain.model import Actor, ActorKind
from orders_service.loyalty.services import TierDiscount
from orders_service.messaging import triggers
from orders_service.orders import family, mapping
from orders_service.orders.family_schemas import MergeIn
from orders_service.orders.pending import PendingCancel, Purpose, pending_of
from orders_service.orders.services import cancel_now, record_change

log = logging.getLogger(__name__)
CANCEL_REFUSED = "cancel_refused"
MERGE_FAILED = "merge_failed"
SYSTEM = Actor(kind=ActorKind.SYSTEM, id="courier-cancel")


def _why(pending: PendingCancel, what: str) -> str:
    return f"{what}: {pending.reason}" if pending.reason else what


async def complete(session: AsyncSession, row: OrderRow, courier: str) -> bool:
    """The courier confirmed the cancellation: cancel the order, or merge it into its survivor, as asked."""
    pending = pending_of(row)
    if pending is None:
        return False
    row.pending_cancel = None
    confirmed = f"{courier.upper()} confirmed the cancellation of its parcel"
    if pending.purpose is Purpose.CANCEL:
        await cancel_now(session, row, pending.actor, _why(pending, confirmed))
        return True
    assert pending.into is not None  # a merge always names its survivor
    data = MergeIn(
        order_ids=[pending.into, row.id],
        into=pending.into,
        recipient_from=row.id if pending.recipient else None,
        address_from=row.id if pending.address else None,
        reason=_why(pending, confirmed),
    )
    try:
        # The customer's tier now, as for a merge staff commit at once (the app's default policy).
        await family.merge_orders(session, data, pending.actor, TierDiscount())
    except DomainError as error:  # the survivor moved on meanwhile (picked up, cancelled, merged elsewhere)
        await _merge_failed(session, row, pending.into, courier, error.detail)
        return False
    return True


async def _merge_failed(session: AsyncSession, row: OrderRow, into: UUID, courier: str, why: str) -> None:
    survivor = await session.get(OrderRow, into)
    code = survivor.code if survivor is not None else str(into)
    message = (
        f"{courier.upper()} cancelled the parcel of {row.code} for the merge into {code}, but the merge is no "
        f"longer possible ({why}); ship {row.code} again or cancel it"
    )
    before = mapping.to_domain(row)
    row.version += 1
    record_change(session, row, SYSTEM, MERGE_FAILED, before, before, reason=message[:500])
    session.add(StaffAlert(kind=MERGE_FAILED, order_id=row.id, message=message))
    await triggers.sync_failed(session, row, courier, message)
    log.warning("merge after a courier cancel failed for order %s: %s", row.id, why)


async def refused(session: AsyncSession, row: OrderRow, courier: str, message: str) -> bool:
    """The courier will not cancel (it picked the parcel up): the order stays as the courier has it, with its COD.

    The wait ends with an event and a staff alert (and a message to staff where one is configured).
    """
    pending = pending_of(row)
    if pending is None:
        return False
    row.pending_cancel = None
    what = "cancel" if pending.purpose is Purpose.CANCEL else "merge"
    text = f"{courier.upper()} did not cancel the parcel, so the {what} was not done: {message}"
    before = mapping.to_domain(row)
    row.version += 1  # the response changes (no pending_cancel): a new ETag
    record_change(
        session, row, Actor(kind=ActorKind.COURIER, id=courier), CANCEL_REFUSED, before, before, reason=text[:500]
    )
    session.add(StaffAlert(kind=CANCEL_REFUSED, order_id=row.id, message=f"order {row.code}: {text}"))
    await triggers.sync_failed(session, row, courier, text)
    log.warning("courier refused the cancel of order %s: %s", row.id, message)
    return True
