"""Shipping use cases: hand an order to its courier, and take in what couriers report."""

from __future__ import annotations

import datetime
import logging
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from couriers.base import Courier, Request, WebhookFieldInvalid, WebhookRejected
from orders_service.db.engine import begin_write
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import Shipment, StaffAlert
from orders_service.domain.errors import InvalidField, InvalidTransition
from orders_service.domain.model import Actor, OrderStatus, replace
from orders_service.domain.status import check_transition
from orders_service.infra.outbox import enqueue
from orders_service.ops import metrics
from orders_service.orders import mapping, store
from orders_service.orders.services import change_of, check_precondition, get_order, record_note
from orders_service.shipping.events import apply_event
from orders_service.shipping.plan import client_code
from orders_service.shipping.registry import CourierRegistry
from orders_service.shipping.ship_store import shipment_columns, write_ship

log = logging.getLogger(__name__)


async def ship_order(
    session: AsyncSession,
    order_id: UUID,
    if_match: str | None,
    actor: Actor,
    couriers: CourierRegistry,
    courier: str | None = None,
    *,
    row: OrderRow | None = None,
) -> OrderRow:
    """Create the courier order through the outbox: the order moves to ready_to_ship at once.

    `courier` (chosen by staff or the shop's rule, shipping/choice.py) replaces the order's; None keeps it.
    `row`: the order as the caller already read it locked in this transaction (not read a second time).
    """
    if row is None:
        await begin_write(session)
        row = await get_order(session, order_id, lock=True)
    check_precondition(if_match, row.version)
    before = mapping.to_domain(row)
    check_transition(before.status, OrderStatus.READY_TO_SHIP)
    courier = courier or before.courier
    couriers.get(courier)  # a courier the shop has no account with is refused now, not in the relay
    if row.shipment is not None:
        raise InvalidTransition("the order already has a courier order")
    after = replace(before, status=OrderStatus.READY_TO_SHIP, courier=courier)
    event, message = change_of(row, actor, "shipped", before, after, version=row.version + 1)
    # Core statements, as an amendment's writes (shipping/ship_store.py); the parcel is then the order's, with the
    # columns its INSERT wrote: the answer shows it without reading it back.
    shipment = shipment_columns(row.id, courier, client_code(row.code, 1))
    await session.run_sync(write_ship, store.Writes(row, after, event, [message]), shipment)
    return row


async def retry_sync(session: AsyncSession, order_id: UUID, actor: Actor) -> OrderRow:
    """Staff ask for a refused courier sync to be tried again (after fixing the order, or the courier its side).

    The shipment goes back to pending and the relay gets a message for the order, as after any change; the
    sync itself still decides what the courier must be told. The staff alert of the failure is resolved.
    """
    await begin_write(session)
    row = await get_order(session, order_id, lock=True)
    shipment = await session.scalar(select(Shipment).where(Shipment.order_id == order_id))
    if shipment is None or shipment.sync_state != "sync_failed":
        raise InvalidTransition("only an order whose courier sync failed can be retried")
    shipment.sync_state = "pending"
    shipment.refused = None  # what the courier refused is asked again, as it is (see shipping/plan.py)
    record_note(session, row, actor, "sync_retried", f"tried again after: {shipment.last_error or 'a refusal'}")
    await session.execute(
        update(StaffAlert)
        .where(StaffAlert.order_id == row.id, StaffAlert.kind == "sync_failed", StaffAlert.resolved_at.is_(None))
        .values(resolved_at=datetime.datetime.now(datetime.UTC))
    )
    enqueue(session, "order.sync_retried", str(row.id), {"order_id": str(row.id), "version": row.version})
    await session.flush()
    return row


async def receive_webhook(session: AsyncSession, courier: Courier, request: Request) -> dict[str, int]:
    """Verify (WebhookRejected -> 401), then store and apply each event once.

    Counted in `orders_webhook_events_total` by courier and outcome (applied, duplicate, stale, unmatched,
    rejected).
    """
    try:
        events = courier.parse_webhook(request)
        if any(event.courier != courier.name for event in events):
            raise WebhookRejected("event from another courier")
    except WebhookRejected:
        metrics.webhook(courier.name, "rejected")
        raise
    except WebhookFieldInvalid as invalid:  # verified, but a number no parcel has: refused, said, and logged
        metrics.webhook(courier.name, "rejected")
        log.warning("%s webhook refused: %s", courier.name, invalid)
        raise InvalidField(invalid.field, invalid.message) from None
    counts: dict[str, int] = {}
    for event in events:
        outcome = await apply_event(session, event)
        counts[outcome] = counts.get(outcome, 0) + 1
    for outcome, count in counts.items():
        metrics.webhook(courier.name, outcome, count)
    return counts
