"""Edit-link payloads: the staff's link request and answer, and the order as its customer sees it."""

from __future__ import annotations

import datetime
from typing import Annotated

from msgspec import Meta, Struct

from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import Order
from orders_service.geo import Warehouse
from orders_service.links.rules import MAX_TTL_HOURS, Variant
from orders_service.orders import mapping
from orders_service.orders.schemas import DiscountOut, RecipientOut, ShippingOut, TryonOptionOut


class EditLinkIn(Struct, forbid_unknown_fields=True):
    ttl_hours: Annotated[int, Meta(ge=1, le=MAX_TTL_HOURS, description="hours the link stays open")] | None = None


class EditLinkOut(Struct):
    url: str
    expires_at: datetime.datetime


class VariantOut(Struct):
    size: str | None
    color: str | None
    unit_price: int


class PublicLineOut(Struct, omit_defaults=True):
    id: str
    sku: str
    name: str
    quantity: int
    amount: int
    size: str | None = None
    color: str | None = None
    unit_price: int | None = None
    tryon_options: list[TryonOptionOut] | None = None
    # The sizes and colours she may swap to (swap_variant takes size/color; the price is the shop's).
    variants: list[VariantOut] | None = None


class PublicOrderOut(Struct):
    """What the link shows: no customer id, no shipment internals, no staff note."""

    code: str
    status: str
    version: int
    recipient: RecipientOut
    lines: list[PublicLineOut]
    subtotal: int
    discount: DiscountOut
    shipping: ShippingOut
    total: int
    paid: int
    cod_amount: int
    link_expires_at: datetime.datetime
    updated_at: datetime.datetime


def public_order(
    row: OrderRow,
    warehouse: Warehouse,
    offers: dict[str, tuple[Variant, ...]],
    expires_at: datetime.datetime,
    order: Order | None = None,
) -> PublicOrderOut:
    full = mapping.render(row, [], warehouse, order)
    lines = [
        PublicLineOut(
            id=line.id,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            amount=line.amount,
            size=line.size,
            color=line.color,
            unit_price=line.unit_price,
            tryon_options=line.tryon_options,
            variants=[VariantOut(v.size, v.color, v.unit_price) for v in offers.get(line.id, ())] or None,
        )
        for line in full.lines
    ]
    return PublicOrderOut(
        code=full.code,
        status=full.status,
        version=full.version,
        recipient=full.recipient,
        lines=lines,
        subtotal=full.subtotal,
        discount=full.discount,
        shipping=full.shipping,
        total=full.total,
        paid=full.paid,
        cod_amount=full.cod_amount,
        link_expires_at=expires_at,
        updated_at=full.updated_at,
    )
