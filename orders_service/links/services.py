"""Edit-link use cases: issue, revoke and open links; the customer's amendments and cancel through them.

Changes go through the same order services as the staff API, with a `customer` actor; only the edge commits.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.catalogue.offers import offers as catalogue_offers
from orders_service.db.engine import begin_write
from orders_service.db.models import EditLink, OrderLine
from orders_service.db.models import Order as OrderRow
from orders_service.domain.errors import OrderNotAmendable
from orders_service.domain.model import Actor, ActorKind, Order, OrderStatus
from orders_service.domain.operations import Operation
from orders_service.links.rules import (
    EDITABLE,
    TOKEN_BYTES,
    LinkExpired,
    LinkNotFound,
    LinkReadOnly,
    LinkState,
    Variant,
    customer_operations,
    expiry,
    link_state,
    looks_like_token,
    offered_variants,
    token_hash,
)
from orders_service.messaging.triggers import queue_edit_link_message
from orders_service.orders import mapping
from orders_service.orders.discounts import DiscountPolicy
from orders_service.orders.loader import read_order
from orders_service.orders.services import amend_order, get_order, move_order, record_note
from orders_service.shop_settings.identity import public_url

_VARIANTS_SCANNED = 500  # recent lines of the same products read to find the sizes and colours on offer


def _recent_variants() -> Select[tuple[str, str | None, str | None, int | None]]:
    """Each SKU, size, colour and price among the recent lines of the SKUs, the newest first: the database
    folds the lines scanned (up to 500, mostly the same few variants) into the few distinct ones the page
    offers, instead of sending every line to be folded here. Built once (its cache key with it)."""
    scanned = (
        select(OrderLine.sku, OrderLine.size, OrderLine.color, OrderLine.unit_price, OrderRow.created_at)
        .join(OrderRow, OrderRow.id == OrderLine.order_id)
        .where(OrderLine.sku.in_(bindparam("skus", expanding=True)), OrderLine.unit_price.is_not(None))
        .order_by(OrderRow.created_at.desc())
        .limit(_VARIANTS_SCANNED)
        .subquery()
    )
    variant = (scanned.c.sku, scanned.c.size, scanned.c.color, scanned.c.unit_price)
    return select(*variant).group_by(*variant).order_by(func.max(scanned.c.created_at).desc())


_RECENT_VARIANTS = _recent_variants()


async def create_link(
    session: AsyncSession, order_id: UUID, ttl_hours: int, actor: Actor, base_url: str, now: datetime.datetime
) -> tuple[str, datetime.datetime]:
    """A new link to the order: (url, expires_at). The token is in the URL only; the database keeps its hash."""
    expires_at = expiry(now, ttl_hours)
    await begin_write(session)
    base_url = await public_url(session, base_url)  # the shop's own, when an admin set one in the dashboard
    row = await get_order(session, order_id, lock=True)
    if OrderStatus(row.status) not in EDITABLE:
        raise OrderNotAmendable(f"the order is {row.status}: the customer can no longer change it")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(EditLink(order_id=row.id, token_hash=token_hash(token), expires_at=expires_at, created_by=actor.id))
    record_note(
        session, row, actor, "edit_link_created", f"a customer edit link, valid until {expires_at:%Y-%m-%d %H:%M} UTC"
    )
    await session.flush()
    url = f"{base_url}/o/{token}"
    # The customer hears of it in the same transaction: one message per link, through the policy gate.
    await queue_edit_link_message(session, row, url, expires_at)
    return url, expires_at


async def revoke_links(session: AsyncSession, order_id: UUID, actor: Actor, now: datetime.datetime) -> int:
    """Revoke every open link of the order; how many were revoked."""
    await begin_write(session)
    row = await get_order(session, order_id, lock=True)
    result = await session.execute(
        update(EditLink)
        .where(EditLink.order_id == row.id, EditLink.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    revoked = int(getattr(result, "rowcount", 0) or 0)
    if revoked:
        record_note(session, row, actor, "edit_link_revoked", f"{revoked} customer edit link(s) revoked")
    await session.flush()
    return revoked


async def open_link(
    session: AsyncSession, token: str, now: datetime.datetime, *, to_change: bool = True
) -> tuple[EditLink, OrderRow]:
    """The link and its order, or LinkNotFound (unknown, tampered, revoked) or LinkExpired.

    After pickup or a merge the link only shows the order: opening it `to_change` is LinkReadOnly (a 409).
    """
    if not looks_like_token(token):
        raise LinkNotFound()
    link = await session.scalar(select(EditLink).where(EditLink.token_hash == token_hash(token)))
    if link is None:
        raise LinkNotFound()
    # With whether the catalogue sells any of its SKUs: the page's offers then ask it nothing when it sells none.
    row, _ = await read_order(session, link.order_id, lock=False, along=None, stock_read=True)
    state = link_state(link.expires_at, link.revoked_at, OrderStatus(row.status), now)
    if state is LinkState.REVOKED:
        raise LinkNotFound()
    if state is LinkState.EXPIRED:
        raise LinkExpired()
    if state is LinkState.READ_ONLY and to_change:
        raise LinkReadOnly(OrderStatus(row.status))
    return link, row


def customer(link: EditLink) -> Actor:
    return Actor(kind=ActorKind.CUSTOMER, id=f"link:{link.id}")


async def offers(session: AsyncSession, row: OrderRow) -> dict[str, tuple[Variant, ...]]:
    """Per plain line, the sizes and colours the shop offers: what it has put on orders of the same SKU.

    For a SKU the catalogue sells, its variants with enough available; otherwise the shop's own recent order
    lines (and try-on options in this order).
    """
    order = mapping.to_domain(row)
    # SKUs the catalogue sells offer its variants with enough available to this order, at the catalogue's price.
    sold = await catalogue_offers(session, row.id, {line.sku for line in order.lines if not line.is_tryon})
    in_catalogue = {
        line.id: [Variant(o.size, o.color, o.price) for o in sold[line.sku] if o.available >= line.quantity]
        for line in order.lines
        if line.sku in sold
    }
    skus = {line.sku for line in order.lines if not line.is_tryon and line.sku not in sold}
    seen: dict[str, list[Variant]] = {sku: [] for sku in skus}
    for line in order.lines:
        if line.is_tryon and line.sku in seen:
            seen[line.sku] += [Variant(o.size, o.color, o.unit_price) for o in line.tryon_options or ()]
    if skus:
        recent = await session.execute(_RECENT_VARIANTS, {"skus": sorted(skus)})
        for sku, size, color, price in recent.tuples():
            if price is not None:
                seen[sku].append(Variant(size, color, price))
    return {line.id: offered_variants(line, in_catalogue.get(line.id, seen.get(line.sku, ()))) for line in order.lines}


async def amend_by_link(
    session: AsyncSession,
    token: str,
    if_match: str | None,
    operations: Sequence[Operation],
    reason: str | None,
    discounts: DiscountPolicy,
    now: datetime.datetime,
    *,
    dry_run: bool = False,
) -> tuple[OrderRow, Order | None, EditLink]:
    """The customer's amendment: the staff path, minus staff-only operations, at the shop's prices."""
    if not dry_run:
        await begin_write(session)  # before the first read: SQLite cannot turn a reader into the writer later
    link, row = await open_link(session, token, now)
    checked = customer_operations(mapping.to_domain(row), operations, await offers(session, row))
    amended, preview = await amend_order(
        session, row.id, if_match, checked, reason, customer(link), dry_run=dry_run, discounts=discounts
    )
    return amended, preview, link


async def cancel_by_link(
    session: AsyncSession, token: str, if_match: str | None, reason: str | None, now: datetime.datetime
) -> tuple[OrderRow, EditLink]:
    """Cancel through the link: open only before pickup, so a courier order, if any, is cancelled by sync."""
    await begin_write(session)
    link, row = await open_link(session, token, now)
    return await move_order(session, row.id, if_match, OrderStatus.CANCELLED, customer(link), reason), link
