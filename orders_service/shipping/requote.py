"""A new address re-prices the parcel: the order's courier is asked for the fee to the old and the new address,
and the order's shipping fee moves by the difference (the COD with it, by the money rules).

By the difference, not to the quote: a shop's fee may hold its own margin or a free-shipping promise, which an
address change should not undo; what the courier now charges more (or less) is what changes. Staff who set the
fee in the same amendment have the last word, and a courier that does not answer in time leaves the fee as it
was (the address still changes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncSession

from couriers.base import CourierError
from orders_service.domain.model import Address, Order, replace
from orders_service.domain.operations import Operation, SetAddress, SetShipping
from orders_service.shipping.plan import desired_parcel
from orders_service.shipping.registry import CourierNotConfigured, CourierRegistry

log = logging.getLogger(__name__)
REQUOTE_KEY = "orders.requote"  # session.info: the Requoter of this process (infra/runtime.py puts it there)


@dataclass(frozen=True)
class Requoter:
    couriers: CourierRegistry
    origin_province: int
    timeout_s: float


def _new_address(operations: Sequence[Operation]) -> Address | None:
    """The address the amendment ends with, unless staff also set the fee themselves."""
    if any(isinstance(op, SetShipping) and op.fee is not UNSET for op in operations):
        return None
    addresses = [op.address for op in operations if isinstance(op, SetAddress)]
    if not addresses:
        return None
    return addresses[-1]


async def fee_after(session: AsyncSession, order_id: UUID, operations: Sequence[Operation]) -> int | None:
    """The order's shipping fee once its address is `operations`' new one; None to leave the fee alone.

    Reads the order before any write: a read it started itself is ended before the courier is asked, so no
    transaction waits on a courier (a caller already in a transaction keeps it; the quote is bounded).
    """
    requoter: Requoter | None = session.info.get(REQUOTE_KEY)
    address = _new_address(operations)
    if requoter is None or address is None:
        return None
    from orders_service.orders import mapping
    from orders_service.orders.services import get_order  # the orders package calls in here: imported late

    started = not session.in_transaction()
    row = await get_order(session, order_id)
    order, code = mapping.to_domain(row), row.code
    weight, dims = mapping.parcel_weight(row), mapping.parcel_dimensions(row)  # as the courier order carries it
    if started:  # a commit, not a rollback: it wrote nothing, and what was read stays usable (dashboard end_read)
        await session.commit()
    if (address.ward_code, address.province_code) == (
        order.recipient.address.ward_code,
        order.recipient.address.province_code,
    ):
        return None  # the same ward: the courier prices the same parcel
    moved = replace(order, recipient=replace(order.recipient, address=address))
    return await _requoted(requoter, order, moved, code, weight, dims)


async def _requoted(
    requoter: Requoter, order: Order, moved: Order, code: str, weight: int, dims: tuple[int, int, int] | None
) -> int | None:
    try:
        courier = requoter.couriers.get(order.courier)
        # Both parcels before either call: a bad ward must not leave a courier call made and never awaited.
        before = desired_parcel(order, code, 1, weight_g=weight, dims_cm=dims)
        after = desired_parcel(moved, code, 1, weight_g=weight, dims_cm=dims)
        old, new = await asyncio.wait_for(
            asyncio.gather(
                courier.quote(requoter.origin_province, before), courier.quote(requoter.origin_province, after)
            ),
            requoter.timeout_s,
        )
    # ValueError: a ward not in its province, which the amendment itself refuses naming the field.
    except (CourierError, CourierNotConfigured, TimeoutError, ValueError) as error:
        log.info("no re-quote of order %s after its address changed: %s", code, error)
        return None
    return max(0, order.shipping.fee + new.fee - old.fee)


def apply_fee(order: Order, fee: int | None) -> Order:
    """`order` with the re-quoted fee; as it is when there is none."""
    if fee is None or fee == order.shipping.fee:
        return order
    return replace(order, shipping=replace(order.shipping, fee=fee))
