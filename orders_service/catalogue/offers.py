"""What the catalogue can offer an order: each variant of its SKUs with its price and what is available to it.

Available *to this order* counts what the order already holds of the variant (its own units are not taken
from it by a swap). The customer page and the dashboard offer only variants with enough available.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.catalogue.models import StockReservation
from orders_service.catalogue.stock import lookup

_SIZE_ORDER = {size: rank for rank, size in enumerate(("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"))}


class Offer(NamedTuple):
    size: str | None
    color: str | None
    price: int
    available: int  # to this order: available in stock plus what it holds itself

    def rank(self) -> tuple[int, str, str]:
        size = self.size or ""
        return _SIZE_ORDER.get(size.upper(), len(_SIZE_ORDER)), size, self.color or ""


async def offers(session: AsyncSession, order_id: UUID | None, skus: Iterable[str]) -> dict[str, list[Offer]]:
    """Per SKU the catalogue sells, its variants (sizes in their usual order); SKUs it does not sell are absent."""
    snapshot = await lookup(session, skus, fresh=True)
    if not snapshot.variants:
        return {}
    held: dict[UUID, int] = {}
    if order_id is not None:
        rows = await session.execute(
            select(StockReservation.variant_id, StockReservation.quantity).where(StockReservation.order_id == order_id)
        )
        held = dict(rows.tuples().all())
    found: dict[str, list[Offer]] = {}
    for (sku, size, color), variant in snapshot.variants.items():
        available = variant.stock - variant.reserved + held.get(variant.variant_id, 0)
        found.setdefault(sku, []).append(Offer(size or None, color or None, variant.price, available))
    return {sku: sorted(items, key=Offer.rank) for sku, items in found.items()}
