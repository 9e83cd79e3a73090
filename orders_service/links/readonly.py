"""The link after pickup or a merge: what it still shows (status, amount, parcel, the shop's contact).

A merged order names the order it became, which the merge rules keep within one customer (different customers'
orders are a 409); the walk checks it again, so a link never shows another customer's order. It does not link
to that order's own page: links are kept as hashes, so an existing one cannot be given back, and making a new
one here would let a page view grant changes the shop never offered (she asks the shop, whose contact is shown).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import OrderStatus
from orders_service.domain.money import compute_totals
from orders_service.links.rules import READ_ONLY
from orders_service.links.schemas import PublicOrderOut, PublicShipmentOut, ShopContactOut, SuccessorOut
from orders_service.orders import mapping
from orders_service.orders.services import get_order
from orders_service.shop_settings.identity import ShopIdentity

MAX_MERGES = 8  # merges followed from one order: a chain is one or two long; a loop is never followed


async def successor(session: AsyncSession, row: OrderRow) -> OrderRow | None:
    """The order `row` was merged into, followed through later merges; None unless merged into her own order."""
    current, seen = row, {row.id}
    while current.merged_into_id is not None and current.merged_into_id not in seen and len(seen) <= MAX_MERGES:
        following = await get_order(session, current.merged_into_id)
        if following.customer_id != row.customer_id:
            return None
        seen.add(following.id)
        current = following
    return None if current is row else current


def shipment_of(row: OrderRow) -> PublicShipmentOut | None:
    shipment = row.shipment
    if shipment is None or row.status == OrderStatus.MERGED:  # a merged order's parcel was cancelled
        return None
    return PublicShipmentOut(courier=shipment.courier, tracking_code=shipment.tracking_code, status=shipment.status)


def contact(shop: ShopIdentity) -> ShopContactOut:
    return ShopContactOut(name=shop.name, phone=shop.phone, address=shop.address)


async def with_state(session: AsyncSession, body: PublicOrderOut, row: OrderRow, shop: ShopIdentity) -> PublicOrderOut:
    """The link's answer with its state: read-only or not, the parcel, the order it became, the shop."""
    merged_into = None
    if row.status == OrderStatus.MERGED:
        after = await successor(session, row)
        if after is not None:
            totals = compute_totals(mapping.to_domain(after))
            merged_into = SuccessorOut(
                code=after.code,
                status=after.status,
                total=totals.total,
                cod_amount=totals.cod_amount,
                shipment=shipment_of(after),
            )
    body.read_only = OrderStatus(row.status) in READ_ONLY
    body.shipment = shipment_of(row)
    body.merged_into = merged_into
    body.shop = contact(shop)
    return body
