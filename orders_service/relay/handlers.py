"""Which handler runs for which outbox topic."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.policy import Channel
from notifications.providers import Provider
from orders_service.db.models import OutboxMessage
from orders_service.messaging.expansion import expand_campaign
from orders_service.messaging.sender import send_notification
from orders_service.messaging.triggers import AMENDED_TOPIC, make_amended_message
from orders_service.relay.core import Handler
from orders_service.shipping import window
from orders_service.shipping.registry import CourierRegistry
from orders_service.shipping.sync import SHIPPED_TOPICS, sync_order_shipment

KNOWN_SHIPPED = 10_000  # orders remembered as shipped, per relay


def build_handlers(
    db: async_sessionmaker[AsyncSession],
    couriers: CourierRegistry,
    sync_lease_s: float = 30.0,
    providers: Mapping[Channel, Provider] | None = None,
    renew_s: float | None = None,
) -> dict[str, Handler]:
    lease = datetime.timedelta(seconds=sync_lease_s)
    # Orders seen with a shipment (never deleted, so this stays true): their next syncs skip the look for one.
    shipped_orders: dict[UUID, None] = {}

    async def order_changed(message: OutboxMessage) -> str:
        # Every change of an order may concern its courier; the sync itself decides what to call, if anything.
        order_id = UUID(message.key)
        shipped = message.topic in SHIPPED_TOPICS or order_id in shipped_orders
        outcome = await sync_order_shipment(db, couriers, order_id, lease, renew_s, shipped=shipped)
        if outcome != "no shipment" and order_id not in shipped_orders:
            if len(shipped_orders) >= KNOWN_SHIPPED:  # the oldest goes: it only costs that order one look
                del shipped_orders[next(iter(shipped_orders))]
            shipped_orders[order_id] = None
        return outcome

    async def notify(message: OutboxMessage) -> str:
        return await send_notification(db, providers or {}, UUID(message.key))

    async def amended(message: OutboxMessage) -> str:
        # An amendment's message, made off the request's path; the key is the message's, one per version.
        return await make_amended_message(db, message.key, message.payload)

    async def expand(message: OutboxMessage) -> str:
        # A campaign's members, a batch per transaction; the key is the campaign's.
        return await expand_campaign(db, message.key)

    async def hand_over(message: OutboxMessage) -> str:
        # A ship held by the edit window falls due (shipping/window.py); the key is the order's.
        return await window.hand_over(db, couriers, UUID(message.key), int(message.payload.get("minutes", 0)))

    return {
        "order.": order_changed,
        window.HANDOVER_TOPIC: hand_over,
        "notifications.send": notify,
        AMENDED_TOPIC: amended,
        "campaigns.expand": expand,
    }
