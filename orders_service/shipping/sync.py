"""The courier sync handler: bring the courier to the order's current state, once, whatever happens.

Each aspect of the parcel (recipient, address, COD, items) is its own call: one the courier refuses is recorded
for that aspect, with the courier's words, and the others still go through. A recreate (GHTK) whose new order is
refused after the old label was cancelled is retried until a live parcel exists.
"""

from __future__ import annotations

import datetime
import functools
import logging
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import contains_eager, joinedload, raiseload, selectinload
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from couriers.base import Courier, CourierError, Parcel, PermanentCourierError, Status, TransientCourierError
from couriers.capabilities import Aspect
from orders_service.db.engine import begin_write
from orders_service.db.leases import kept_alive
from orders_service.db.models import CourierAddress, OrderEvent, Shipment, StaffAlert
from orders_service.db.models import Order as OrderRow
from orders_service.domain.model import Actor, ActorKind, replace
from orders_service.messaging import triggers
from orders_service.ops import metrics
from orders_service.orders import mapping
from orders_service.orders.services import note_of, record_note
from orders_service.shipping import alerts, cancels, rounds
from orders_service.shipping import plan as p
from orders_service.shipping.events import apply_event
from orders_service.shipping.reconcile import observed_event
from orders_service.shipping.registry import CourierRegistry
from orders_service.shipping.rounds import Round

log = logging.getLogger(__name__)
LEASE = datetime.timedelta(seconds=30)  # renewed while the courier calls run: see db/leases.py
_WARD = and_(CourierAddress.courier == Shipment.courier, CourierAddress.ward_code == OrderRow.ward_code)
# The order with its lines, parcel and shipment, and the shipment's courier's ids for the order's ward (or None).
_WHOLE_ORDER = (
    select(OrderRow, CourierAddress)
    .join(Shipment, Shipment.order_id == OrderRow.id)
    .outerjoin(CourierAddress, _WARD)
    .options(joinedload(OrderRow.lines), contains_eager(OrderRow.shipment), joinedload(OrderRow.parcel))
)
_ONLY_THE_ORDER = (raiseload(OrderRow.lines), raiseload(OrderRow.parcel), raiseload(OrderRow.shipment))
# The statements a create runs, built once with their values as parameters: SQLAlchemy keeps a statement's cache
# key on the statement object, so one built per call walked its whole structure again on every call (7.6% of the
# relay's CPU in a 300-order run, most of it for the order with its lines, parcel and shipment).
_SHIPMENTS = cast(Table, Shipment.__table__)
_UNTIL = bindparam("until_", type_=_SHIPMENTS.c.lease_until.type)
# Of the table, not the mapped class: the ORM's bulk UPDATE annotates its statement anew on every execution.
_TAKE = (
    update(_SHIPMENTS)
    .where(
        _SHIPMENTS.c.order_id == bindparam("order_id_"),
        or_(_SHIPMENTS.c.lease_until.is_(None), _SHIPMENTS.c.lease_until < bindparam("now_")),
    )
    .values(lease_until=_UNTIL)
)
_RENEW = (
    update(_SHIPMENTS)
    .where(_SHIPMENTS.c.id == bindparam("shipment_id_"), _SHIPMENTS.c.lease_until.is_not(None))
    .values(lease_until=_UNTIL)
)
# The columns it sets are the parameters it is given (besides the key): one compiled form per set of columns.
_SHIPMENT_UPDATE = update(_SHIPMENTS).where(_SHIPMENTS.c.id == bindparam("shipment_id_"))
_INSERT_EVENT = insert(cast(Table, OrderEvent.__table__))
_ORDERS = cast(Table, OrderRow.__table__)
_ORDER_SEQ = update(_ORDERS).where(_ORDERS.c.id == bindparam("order_id_"))
_SHIPMENT_OF = select(Shipment.id).where(Shipment.order_id == bindparam("order_id_"))
_WHOLE_ORDER_OF = _WHOLE_ORDER.where(OrderRow.id == bindparam("order_id_"))
_WHOLE = (joinedload(OrderRow.lines), joinedload(OrderRow.parcel), selectinload(OrderRow.shipment))
# The order locked (see _locked_order): with its lines, parcel and shipment (True), or its own columns only.
_LOCKED = {
    whole: select(OrderRow)
    .options(*(_WHOLE if whole else _ONLY_THE_ORDER))
    .where(OrderRow.id == bindparam("order_id_"))
    .with_for_update(key_share=True, of=OrderRow)
    for whole in (True, False)
}
SYSTEM = Actor(kind=ActorKind.SYSTEM, id="courier-sync")
MAX_ROUNDS = 5  # edits that land while we talk to the courier are caught up in the same run
# Messages of an order that has a shipment (never deleted): their sync goes straight to the lease.
SHIPPED_TOPICS = frozenset({"order.shipped", "order.sync_retried"})


class ShipmentBusy(TransientCourierError):
    """Another worker is syncing this shipment; the message comes back later and finds it done."""


class RecreateFailed(TransientCourierError):
    """The old courier order is cancelled and the new one was refused: retried (with backoff) until one exists,
    as an order must never be left with no live parcel while it waits to be picked up."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def _take(
    session: AsyncSession, order_id: UUID, lease: datetime.timedelta
) -> tuple[Shipment, OrderRow, dict[str, Any] | None] | None:
    """Lease the shipment, then read the order, its lines, the shipment and the courier's ids for its ward in one
    statement: the lease holds the shipment's row, so what is read after it is what the calls start from."""
    await begin_write(session)
    now = _now()
    taken = await session.execute(_TAKE, {"order_id_": order_id, "now_": now, "until_": now + lease})
    if taken.rowcount == 0:  # type: ignore[attr-defined]
        if await session.scalar(_SHIPMENT_OF, {"order_id_": order_id}) is None:
            return None
        raise ShipmentBusy("another worker is syncing this shipment")
    found = (await session.execute(_WHOLE_ORDER_OF, {"order_id_": order_id})).unique().first()
    assert found is not None and found[0].shipment is not None
    order, ward = found
    return order.shipment, order, dict(ward.ids) if ward is not None else None


async def sync_order_shipment(
    db: async_sessionmaker[AsyncSession],
    couriers: CourierRegistry,
    order_id: UUID,
    lease: datetime.timedelta = LEASE,
    renew_s: float | None = None,
    *,
    shipped: bool = False,
) -> str:
    """Sync the order's shipment, if it has one. Raises TransientCourierError for the relay to retry.

    `shipped`: the caller knows the order has a shipment (a message of SHIPPED_TOPICS), so the look is skipped.
    """
    if not shipped:  # most orders are not shipped yet: find that out without a writer's turn
        async with db() as session:
            if await session.scalar(_SHIPMENT_OF, {"order_id_": order_id}) is None:
                return "no shipment"
    outcome = "no shipment"
    for _ in range(MAX_ROUNDS):
        async with db() as session, session.begin():
            taken = await _take(session, order_id, lease)
            if taken is None:
                return outcome
            shipment, order, ids = taken
            courier = couriers.get(shipment.courier)
            domain = mapping.to_domain(order)
            weight, dims = mapping.parcel_weight(order), mapping.parcel_dimensions(order)
            desired = p.desired_parcel(domain, order.code, shipment.generation, ids, weight_g=weight, dims_cm=dims)
            synced = p.parcel_from_json(shipment.synced)
            courier_status = Status(shipment.status) if shipment.status != "pending" else None
            actions = p.plan(
                order_status=domain.status,
                tracking_code=shipment.tracking_code,
                create_attempted=shipment.create_attempted,
                courier_status=courier_status,
                capabilities=courier.capabilities,
                synced=synced,
                desired=desired,
                refused={aspect: refusal["value"] for aspect, refusal in (shipment.refused or {}).items()},
                cancel_requested=order.pending_cancel is not None,
            )
            if not actions and shipment.synced_version == order.version and shipment.sync_state == "synced":
                await _write(session, shipment, lease_until=None)
                metrics.courier_sync(courier.name, "up_to_date")
                return "up to date"
            before_call: dict[str, Any] = {}
            if p.Action.CREATE in actions:
                # Until the courier order is known, `synced` is what the creates sent: a parcel a later lookup
                # finds holds that, not the order as it is then.
                before_call["synced"] = rounds.sent_by_creates(shipment, desired)
            if p.Action.CREATE in actions or p.Action.RECREATE in actions:
                before_call["create_attempted"] = True  # committed before the call: a lost answer is looked up
            if before_call:
                await _write(session, shipment, **before_call)
            state = Round(shipment, order.version, desired, synced, actions)
            state.attempted = p.parcel_from_json(shipment.synced) if shipment.tracking_code is None else None
            state.cancel_requested = order.pending_cancel is not None
        try:
            keep = functools.partial(_renew, db, state.shipment_id, lease)
            every_s = renew_s or lease.total_seconds() / 3
            async with kept_alive(keep, every_s, f"the shipment of order {order_id}"):
                await _execute(courier, actions, state)
        except PermanentCourierError as error:
            if state.cancel_requested and p.Action.CANCEL in actions:
                await _cancel_refused(db, courier, order_id, state, error)
                metrics.courier_sync(courier.name, "failed")
                return "cancel_refused"
            await _record_failure(db, order_id, state, error)
            metrics.courier_sync(courier.name, "failed")
            return "sync_failed"
        except Exception as error:  # transient, or a bug: give the lease back, and let the relay retry
            await _release(db, state, error)
            metrics.courier_sync(courier.name, "retry")
            raise
        latest, outcome = await _record_success(db, state)
        metrics.courier_sync(courier.name, "synced" if outcome == "synced" else "failed")
        if latest:
            return outcome
    return outcome


async def _write(session: AsyncSession, shipment: Shipment, **values: Any) -> None:
    """Write `values` to the shipment's row by one UPDATE of those columns (and `updated_at`), and keep them in the
    loaded instance as committed: what the ORM's flush did at commit, without comparing every loaded attribute
    and building the statement anew (the flush was about a fifth of the relay's time under cProfile, 40 creates)."""
    if not values:
        return
    await session.execute(_SHIPMENT_UPDATE, {"shipment_id_": shipment.id, **values})
    for name, value in values.items():
        set_committed_value(shipment, name, value)


async def _write_changed(session: AsyncSession, shipment: Shipment) -> None:
    """`_write` of the columns changed on the loaded shipment since it was read."""
    changed = instance_state(shipment).committed_state
    await _write(session, shipment, **{name: getattr(shipment, name) for name in changed})


async def _note(session: AsyncSession, order: OrderRow, kind: str, note: str) -> None:
    """`record_note` by two statements built once (the event, the order's last sequence number), not the flush."""
    event = note_of(order, SYSTEM, kind, note)
    await session.execute(_INSERT_EVENT, event)
    await session.execute(_ORDER_SEQ, {"order_id_": order.id, "last_seq": event["seq"]})
    set_committed_value(order, "last_seq", event["seq"])


async def _renew(db: async_sessionmaker[AsyncSession], shipment_id: UUID, lease: datetime.timedelta) -> None:
    async with db() as session, session.begin():
        await begin_write(session)
        await session.execute(_RENEW, {"shipment_id_": shipment_id, "until_": _now() + lease})


async def _execute(courier: Courier, actions: list[p.Action], state: Round) -> None:
    for action in actions:
        aspect = p.ASPECT_OF.get(action)
        if aspect is not None:
            await _update(courier, aspect, state)
        elif action is p.Action.LOOKUP:
            found = await courier.lookup(state.desired.client_code)
            if found is not None:
                state.find(found)
        elif action is p.Action.CREATE:
            if state.tracking_code is None:
                await _create(courier, state)
        elif action is p.Action.RECREATE:
            await _recreate(courier, state)
        elif action is p.Action.CANCEL:
            if state.tracking_code is not None:
                await courier.cancel(state.tracking_code)
            state.cancelled = True
        elif action is p.Action.FORGET:
            state.cancelled = True


async def _update(courier: Courier, aspect: Aspect, state: Round) -> None:
    """One aspect's call. A refusal is this aspect's alone: it is recorded and the next aspect is sent."""
    tracking, parcel = _tracking(state), state.desired
    try:
        if aspect is Aspect.RECIPIENT:
            await courier.update_recipient(tracking, parcel)
        elif aspect is Aspect.ADDRESS:
            await courier.update_address(tracking, parcel)
        elif aspect is Aspect.ITEMS:
            await courier.update_items(tracking, parcel)
        else:
            await courier.update_cod(tracking, parcel.cod_amount)
    except PermanentCourierError as error:
        state.refused[aspect] = error.message
        return
    state.accepted.add(aspect)


async def _recreate(courier: Courier, state: Round) -> None:
    """Cancel, then create under the next client code. Once the cancel went through the old label is void, so a
    refused create is not the end: RecreateFailed makes the relay try again until a new order exists."""
    assert state.tracking_code is not None
    if state.status != str(Status.CANCELLED):
        await courier.cancel(state.tracking_code)
        state.status = str(Status.CANCELLED)
    state.replaced = state.tracking_code
    state.generation += 1
    state.desired = replace(state.desired, client_code=p.client_code(_base_code(state.desired), state.generation))
    try:
        await _create(courier, state)
    except PermanentCourierError as error:
        raise RecreateFailed(
            f"{courier.name} order {state.replaced} is cancelled and the new one was refused: {error.message}",
            code=error.code,
            status_code=error.status_code,
        ) from error


async def _create(courier: Courier, state: Round) -> None:
    try:
        created = await courier.create(state.desired)
    except PermanentCourierError:
        # Refused, perhaps because the client code is taken: by our own create whose answer never came back.
        found = await courier.lookup(state.desired.client_code)
        if found is None:
            raise
        state.find(found)
        return
    state.tracking_code, state.fee, state.status = created.tracking_code, created.fee, str(created.status)


def _tracking(state: Round) -> str:
    if state.tracking_code is None:
        raise PermanentCourierError("the courier order does not exist yet")
    return state.tracking_code


def _base_code(parcel: Parcel) -> str:
    return parcel.client_code.rsplit("-", 1)[0] if "-" in parcel.client_code else parcel.client_code


async def _record_success(db: async_sessionmaker[AsyncSession], state: Round) -> tuple[bool, str]:
    """Write what the courier now holds, per aspect, and what it refused. Returns whether that was the order's
    latest version, and "synced" or "refused" (an aspect the courier does not hold, shown per aspect)."""
    async with db() as session, session.begin():
        await begin_write(session)
        # The lines are read by the take already; only a cancel confirmed here (cancels.complete) needs them.
        order = await _locked_order(session, state.order_id, whole=state.cancelled)
        # Read by its key once the order is ours (a webhook may just have moved it); no query if `whole` read it.
        shipment = await session.get(Shipment, state.shipment_id)
        assert shipment is not None and shipment.order_id == order.id
        if state.tracking_code != shipment.tracking_code:
            note = f"{shipment.courier} order {state.tracking_code} (client code {state.desired.client_code})"
            await _note(session, order, "courier_acknowledged", note)
            # A new courier order starts its own story: what the old one reported (cancelled) is not its status.
            shipment.status, shipment.raw_status, shipment.status_at = state.status, None, None
            if state.replaced is not None:
                await alerts.label_replaced(session, order, shipment.courier, state.replaced, state.tracking_code)
        shipment.tracking_code, shipment.generation = state.tracking_code, state.generation
        shipment.client_code = state.desired.client_code
        shipment.fee = state.fee
        if state.cancelled:
            shipment.status = str(Status.CANCELLED)
            # The courier confirmed: a cancel or merge that waited for it is done now, in this transaction.
            await cancels.complete(session, order, shipment.courier)
        elif shipment.status == "pending":
            shipment.status = state.status
        held = state.held
        if state.actions:  # else the courier already holds it, or has finished and reports instead
            shipment.synced = None if held is None else p.parcel_to_json(held)
            if held is not None:
                shipment.cod_amount = held.cod_amount
            elif state.found is not None:  # what the courier says it will collect, until the next round
                shipment.cod_amount = state.found.cod_amount
        # A (re)create or a cancel settles every aspect; otherwise only those sent.
        attempted = state.updates if state.updates else set(p.UPDATES) if state.actions else set()
        refused = p.refusals_after(shipment.refused, held or state.desired, state.desired, attempted, state.refused)
        shipment.refused = refused or None
        if state.refused:
            await alerts.aspects_refused(session, order, shipment.courier, state.refused)
        behind = state.found is not None and state.behind and not state.cancelled
        if refused:
            shipment.sync_state = "sync_failed"
            shipment.last_error = "; ".join(f"{aspect}: {r['message']}" for aspect, r in refused.items())
        elif behind:  # the parcel found holds an older order: the next round sends what changed since
            shipment.sync_state = "pending"
        else:
            shipment.synced_version, shipment.sync_state, shipment.last_error = state.version, "synced", None
        shipment.lease_until = None
        await _write_changed(session, shipment)
        return order.version == state.version and not behind, "refused" if refused else "synced"


async def _record_failure(
    db: async_sessionmaker[AsyncSession], order_id: UUID, state: Round, error: CourierError
) -> None:
    async with db() as session, session.begin():
        await begin_write(session)
        order = await _locked_order(session, order_id)  # before the shipment is written: see _locked_order
        shipment = await session.get(Shipment, state.shipment_id)
        assert shipment is not None
        if state.tracking_code and not shipment.tracking_code:
            shipment.tracking_code = state.tracking_code
        shipment.sync_state, shipment.last_error, shipment.lease_until = "sync_failed", error.message, None
        message = f"{shipment.courier} refused the change: {error.message}"
        record_note(session, order, SYSTEM, "sync_failed", message)
        # The record staff see (and the notifications feature will send); the relay does not retry it.
        session.add(StaffAlert(kind="sync_failed", order_id=order_id, message=message))
        await triggers.sync_failed(session, order, shipment.courier, error.message)
    log.warning("courier sync failed for order %s: %s", order_id, error.message)


async def _cancel_refused(
    db: async_sessionmaker[AsyncSession], courier: Courier, order_id: UUID, state: Round, error: CourierError
) -> None:
    """The courier would not cancel: learn where the parcel is (it was picked up, most likely), apply that like a
    webhook, and end the wait with an event and a staff alert; the order keeps its status and COD."""
    remote = None
    if state.tracking_code is not None:
        try:
            remote = await courier.detail(state.tracking_code)
        except CourierError as reading:
            log.info("no detail after a refused cancel of order %s: %s", order_id, reading)
    message = error.message if remote is None else f"{error.message} ({courier.name} status {remote.raw_status})"
    async with db() as session, session.begin():
        await begin_write(session)
        order = await _locked_order(session, order_id)
        await cancels.refused(session, order, courier.name, message)
        if remote is not None:
            await apply_event(session, observed_event(courier.name, remote, _now()))
        shipment = await session.get(Shipment, state.shipment_id)
        assert shipment is not None
        shipment.last_error, shipment.lease_until = error.message, None


async def _locked_order(session: AsyncSession, order_id: UUID, *, whole: bool = True) -> OrderRow:
    """Lock the order row (FOR NO KEY UPDATE on PostgreSQL: rows that only reference it, like its shipment's,
    can still be written). Writers lock an order before its shipment (webhooks too), so none wait in a circle.

    Its lines and parcel come in the same statement, its shipment in the next one, read once the lock is held (a
    webhook may just have moved it), so `session.get(Shipment, ...)` afterwards finds it without a query. Unless
    not `whole`: recording what the courier holds needs the order's own columns only (a read of its lines, parcel
    or shipment raises instead of loading), and reads the shipment by its key."""
    order = (await session.scalars(_LOCKED[whole], {"order_id_": order_id})).unique().first()
    assert order is not None
    return order


async def _release(db: async_sessionmaker[AsyncSession], state: Round, error: BaseException) -> None:
    """Give the lease back after a transient failure, keeping what the courier did take: the aspects it accepted
    are not sent again, and a cancelled old order (a recreate half done) is known to be cancelled."""
    async with db() as session, session.begin():
        await begin_write(session)
        recreating = isinstance(error, RecreateFailed)
        order = await _locked_order(session, state.order_id) if recreating else None  # see _locked_order
        shipment = await session.get(Shipment, state.shipment_id)
        if shipment is None:
            return
        if state.tracking_code and not shipment.tracking_code:
            shipment.tracking_code = state.tracking_code  # created, but a later call failed
            shipment.status = state.status
        held = state.held
        if state.accepted and state.synced is not None and held is not None:
            shipment.synced = p.parcel_to_json(held)
            shipment.cod_amount = held.cod_amount
        if isinstance(error, RecreateFailed) and order is not None:
            if shipment.tracking_code == state.replaced:
                shipment.status = str(Status.CANCELLED)  # its cancel webhook may not have come yet
            if shipment.last_error != error.message:  # told once, not on every retry
                await alerts.recreate_failed(session, order, shipment.courier, error.message)
            shipment.sync_state, shipment.last_error, shipment.lease_until = "pending", error.message, None
            return
        shipment.last_error, shipment.lease_until = str(error)[:2000], None
