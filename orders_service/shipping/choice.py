"""Which courier (and service) ships an order: staff's choice checked against the quotes, else the shop's rule.

Everything here reads, then asks couriers; nothing writes. The ship itself (shipping/services.py) starts its
write afterwards, so a slow courier never holds the order or SQLite's writer.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from couriers.capabilities import COURIERS
from orders_service.domain.errors import InvalidField
from orders_service.infra.settings import Settings
from orders_service.orders import mapping
from orders_service.orders.services import get_order
from orders_service.shipping import quotes
from orders_service.shipping.registry import CourierRegistry
from orders_service.shop_settings.services import shipping_rules


class ShipIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Both optional: a courier alone ships with it; neither lets the shop's rule pick from the quotes."""

    courier: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    service: Annotated[str, msgspec.Meta(max_length=64)] | None = None


async def order_quotes(
    session: AsyncSession, order_id: UUID, couriers: CourierRegistry, settings: Settings, names: tuple[str, ...] = ()
) -> list[quotes.QuoteOut]:
    """The order's quotes from every configured courier (or `names`), cheapest first."""
    row = await get_order(session, order_id)
    parcel = quotes.quote_parcel(
        mapping.to_domain(row), row.code, mapping.parcel_weight(row), mapping.parcel_dimensions(row)
    )
    await session.commit()  # end the read (it wrote nothing) before the couriers are asked: none waits on them
    return await quotes.quote_all(couriers, settings.warehouse_province, parcel, settings.quote_timeout_s, names)


async def choose(
    session: AsyncSession, order_id: UUID, choice: ShipIn, couriers: CourierRegistry, settings: Settings
) -> str:
    """The courier the order ships with; 422 naming the field for a courier or service that does not exist.

    Ends its reads whatever it answers (a commit: nothing was written), so that the ship's write begins as a
    writer and what the caller read stays usable.
    """
    try:
        return await _choose(session, order_id, choice, couriers, settings)
    finally:
        await session.commit()


async def _choose(
    session: AsyncSession, order_id: UUID, choice: ShipIn, couriers: CourierRegistry, settings: Settings
) -> str:
    if choice.courier is not None:
        if choice.courier not in COURIERS:
            raise InvalidField("courier", f"unknown courier {choice.courier!r}; one of {', '.join(COURIERS)}")
        couriers.get(choice.courier)  # configured, else 409 before any courier is asked
        if choice.service is not None:
            found = await order_quotes(session, order_id, couriers, settings, (choice.courier,))
            quotes.check_service(found, choice.courier, choice.service)
        return choice.courier
    if choice.service is not None:
        raise InvalidField("courier", "name the courier whose service is chosen")
    rule = (await shipping_rules(session, settings)).ship_rule
    if rule not in quotes.RULES:
        couriers.get(rule)  # a fixed courier ships whatever the others quote
        return rule
    return quotes.pick(await order_quotes(session, order_id, couriers, settings), rule).courier
