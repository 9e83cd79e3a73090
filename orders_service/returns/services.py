"""Return request use cases: ask (customer's page or staff), list, approve (with its effects) or reject.

Approving is one transaction under the order's lock: the request's state, the items back on hand (catalogue
SKUs, at most what the delivery sold), her points and spend reversed for those items only (one ledger entry
per request, `ref` "return-request:<id>", so approving never reverses twice and a later whole return reverses
only what is left), and an event on the order's timeline.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.catalogue import stock
from orders_service.db.engine import begin_write
from orders_service.db.models import Order as OrderRow
from orders_service.db.models import OrderEvent
from orders_service.domain.errors import NotFound, OrderNotAmendable
from orders_service.domain.model import Actor, OrderStatus
from orders_service.domain.money import compute_totals
from orders_service.loyalty.services import items_returned
from orders_service.messaging import triggers
from orders_service.orders import mapping
from orders_service.orders.services import get_order, record_note
from orders_service.returns import rules
from orders_service.returns.models import ReturnRequest
from orders_service.returns.schemas import (
    ActorOut,
    ReturnItemOut,
    ReturnRequestOut,
    ReturnRequestsOut,
    State,
)

Item = tuple[str, str | None, str | None, int]  # sku, size, color, quantity
COUNTED = (str(State.REQUESTED), str(State.APPROVED))  # what a new request may no longer ask back
REQUESTED, APPROVED, REJECTED = "return_requested", "return_approved", "return_rejected"  # the events


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)  # SQLite gives naive UTC


async def delivered_at(session: AsyncSession, order_id: UUID) -> datetime.datetime | None:
    """When the order last became delivered or partially delivered: the event that moved its status there."""
    done = {str(s) for s in rules.RETURNABLE}
    rows = await session.execute(
        select(OrderEvent.at, OrderEvent.changes).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq)
    )
    found = None
    for at, changes in rows.tuples():
        status = (changes or {}).get("status")
        if isinstance(status, dict) and status.get("after") in done:
            found = _aware(at)
    return found


def items_of(request: ReturnRequest) -> list[Item]:
    return [(i["sku"], i.get("size"), i.get("color"), int(i["quantity"])) for i in request.items]


def value_of(request: ReturnRequest) -> int:
    return sum(int(i["value"]) for i in request.items)


async def requests_of(session: AsyncSession, order_id: UUID) -> list[ReturnRequest]:
    rows = await session.scalars(
        select(ReturnRequest).where(ReturnRequest.order_id == order_id).order_by(ReturnRequest.id)
    )
    return list(rows)


def _taken(
    requests: Sequence[ReturnRequest], states: Sequence[str] = COUNTED, but: UUID | None = None
) -> Counter[rules.Variant]:
    return rules.taken_by(items_of(r) for r in requests if r.state in states and r.id != but)


def _prior(requests: Sequence[ReturnRequest], but: UUID | None = None) -> int:
    return sum(value_of(r) for r in requests if r.state == State.APPROVED and r.id != but)


def _check_returnable(row: OrderRow) -> None:
    if OrderStatus(row.status) not in rules.RETURNABLE:
        raise OrderNotAmendable(
            f"the order is {row.status}: only a delivered or partially delivered order can get a return request"
        )


async def create_request(
    session: AsyncSession,
    order_id: UUID,
    items: Sequence[Item],
    reason: str,
    actor: Actor,
    window_days: int,
    now: datetime.datetime,
) -> ReturnRequest:
    """She asks back some of what she kept, within `window_days` of delivery (409 outside it)."""
    await begin_write(session)
    row = await get_order(session, order_id, lock=True)
    _check_returnable(row)
    delivered = await delivered_at(session, row.id)
    if not rules.within_window(delivered, now, window_days):
        ends = "" if delivered is None else f" (it ended {rules.window_ends(delivered, window_days).isoformat()})"
        raise OrderNotAmendable(f"returns are accepted for {window_days} days after delivery{ends}")
    order = mapping.to_domain(row)
    existing = await requests_of(session, row.id)
    asked = rules.check_items(rules.kept(order), _taken(existing), items)
    text = rules.check_reason(reason)
    value = sum(a.value for a in asked)
    totals = compute_totals(order)
    request = ReturnRequest(
        order_id=row.id,
        state=str(State.REQUESTED),
        items=[
            {
                "sku": a.sku,
                "name": a.name,
                "size": a.size,
                "color": a.color,
                "unit_price": a.unit_price,
                "quantity": a.quantity,
                "value": a.value,
            }
            for a in asked
        ],
        reason=text,
        refund=rules.refund(value, _prior(existing), totals.subtotal, totals.discount_amount),
        requested_by_kind=str(actor.kind),
        requested_by=actor.id,
        created_at=now,
    )
    session.add(request)
    record_note(session, row, actor, REQUESTED, text)
    await session.flush()
    return request


async def _locked(session: AsyncSession, request_id: UUID) -> tuple[ReturnRequest, OrderRow]:
    """The request and its order, the order locked first (the order every writer of it takes)."""
    await begin_write(session)
    order_id = await session.scalar(select(ReturnRequest.order_id).where(ReturnRequest.id == request_id))
    if order_id is None:
        raise NotFound("return request", request_id)
    row = await get_order(session, order_id, lock=True)
    request = await session.scalar(
        select(ReturnRequest).where(ReturnRequest.id == request_id).execution_options(populate_existing=True)
    )
    assert request is not None
    if request.state != State.REQUESTED:
        raise OrderNotAmendable(f"the return request is already {request.state}")
    return request, row


async def approve(
    session: AsyncSession, request_id: UUID, actor: Actor, note: str | None, now: datetime.datetime
) -> ReturnRequest:
    request, row = await _locked(session, request_id)
    _check_returnable(row)  # a whole return meanwhile took everything back already
    existing = await requests_of(session, row.id)
    order = mapping.to_domain(row)
    # Still within what she kept once the other approved requests are counted (they were when she asked).
    rules.check_items(rules.kept(order), _taken(existing, (str(State.APPROVED),), request.id), items_of(request))
    totals = compute_totals(order)
    request.refund = rules.refund(
        value_of(request), _prior(existing, request.id), totals.subtotal, totals.discount_amount
    )
    request.state, request.decided_by, request.decided_at = str(State.APPROVED), actor.id, now
    request.decision_note = note or None
    await stock.restock_items(session, row, items_of(request))
    await items_returned(session, row, request.refund, f"return-request:{request.id}", now)
    record_note(session, row, actor, APPROVED, note or request.reason)
    triggers.return_decided(session, row, request.id, True, request.refund, note)
    await session.flush()
    return request


async def reject(
    session: AsyncSession, request_id: UUID, actor: Actor, note: str | None, now: datetime.datetime
) -> ReturnRequest:
    request, row = await _locked(session, request_id)
    request.state, request.decided_by, request.decided_at = str(State.REJECTED), actor.id, now
    request.decision_note = note or None
    record_note(session, row, actor, REJECTED, note or request.reason)
    triggers.return_decided(session, row, request.id, False, request.refund, note)
    await session.flush()
    return request


def _item_out(item: dict[str, object]) -> ReturnItemOut:
    return ReturnItemOut(
        sku=str(item["sku"]),
        name=str(item["name"]),
        size=item.get("size"),  # type: ignore[arg-type]
        color=item.get("color"),  # type: ignore[arg-type]
        unit_price=int(item["unit_price"]),  # type: ignore[call-overload]
        quantity=int(item["quantity"]),  # type: ignore[call-overload]
        value=int(item["value"]),  # type: ignore[call-overload]
    )


def to_out(request: ReturnRequest, code: str) -> ReturnRequestOut:
    return ReturnRequestOut(
        id=request.id,
        order_id=request.order_id,
        order_code=code,
        state=State(request.state),
        items=[_item_out(i) for i in request.items],
        reason=request.reason,
        value=value_of(request),
        refund=request.refund,
        requested_by=ActorOut(kind=request.requested_by_kind, id=request.requested_by),
        created_at=_aware(request.created_at),
        decided_by=request.decided_by,
        decided_at=None if request.decided_at is None else _aware(request.decided_at),
        decision_reason=request.decision_note,
    )


async def list_requests(
    session: AsyncSession, order_id: UUID, window_days: int, now: datetime.datetime
) -> ReturnRequestsOut:
    """The order's requests, oldest first, what may still be asked back, and until when (None: not now)."""
    row = await get_order(session, order_id)
    existing = await requests_of(session, row.id)
    delivered = await delivered_at(session, row.id) if OrderStatus(row.status) in rules.RETURNABLE else None
    open_ = rules.within_window(delivered, now, window_days)
    returnable: list[ReturnItemOut] = []
    if open_:
        kept = rules.kept(mapping.to_domain(row))
        taken = _taken(existing)
        for key, left in rules.still_returnable(kept, taken).items():
            if left > 0:
                k = kept[key]
                value = k.value(taken.get(key, 0), left)
                returnable.append(ReturnItemOut(k.sku, k.name, k.size, k.color, k.unit_price, left, value))
    return ReturnRequestsOut(
        order_id=row.id,
        window_ends_at=rules.window_ends(delivered, window_days) if open_ and delivered else None,
        returnable=returnable,
        items=[to_out(r, row.code) for r in existing],
    )


async def for_order(session: AsyncSession, order_id: UUID, code: str) -> list[ReturnRequestOut]:
    """The order's requests, newest first (the dashboard's order page)."""
    return [to_out(r, code) for r in reversed(await requests_of(session, order_id))]


async def get_request(session: AsyncSession, request_id: UUID) -> ReturnRequestOut:
    found = (
        await session.execute(
            select(ReturnRequest, OrderRow.code)
            .join(OrderRow, OrderRow.id == ReturnRequest.order_id)
            .where(ReturnRequest.id == request_id)
        )
    ).first()
    if found is None:
        raise NotFound("return request", request_id)
    return to_out(found[0], found[1])


async def open_requests(session: AsyncSession, limit: int = 50, offset: int = 0) -> tuple[list[ReturnRequestOut], int]:
    """Requests waiting for staff, oldest first (the dashboard's queue)."""
    waiting = ReturnRequest.state == State.REQUESTED
    total = await session.scalar(select(func.count()).select_from(ReturnRequest).where(waiting))
    rows = await session.execute(
        select(ReturnRequest, OrderRow.code)
        .join(OrderRow, OrderRow.id == ReturnRequest.order_id)
        .where(waiting)
        .order_by(ReturnRequest.created_at, ReturnRequest.id)
        .limit(limit)
        .offset(offset)
    )
    return [to_out(r, code) for r, code in rows.tuples()], int(total or 0)
