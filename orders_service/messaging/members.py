"""A campaign's members in batches: who they are, where they can be reached, and what the gate says now."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.policy import Decision, Purpose, decide
from orders_service.db.models import Customer, CustomerPhone
from orders_service.messaging.config import NotifyConfig
from orders_service.messaging.queue import contacts
from orders_service.messaging.sender import candidates_for

T = TypeVar("T")


@dataclass(frozen=True)
class Member:
    id: UUID
    name: str
    contacts: dict[str, str]


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


async def load_members(session: AsyncSession, ids: Sequence[UUID]) -> list[Member]:
    """The live profiles among `ids`, in id order, with their first phone and email (two queries, no ORM graph).

    A profile merged into another since it was counted is left out: the survivor is a member in her own right
    or not at all, and the duplicate has no phone left to reach.
    """
    rows = await session.execute(
        select(Customer.id, Customer.full_name, Customer.email)
        .where(Customer.id.in_(ids), Customer.merged_into_id.is_(None))
        .order_by(Customer.id)
    )
    people = rows.tuples().all()
    phones: dict[UUID, str] = {}
    found = await session.execute(
        select(CustomerPhone.customer_id, CustomerPhone.e164)
        .where(CustomerPhone.customer_id.in_([p[0] for p in people]))
        .order_by(CustomerPhone.customer_id, CustomerPhone.position)
    )
    for customer_id, e164 in found.tuples():
        phones.setdefault(customer_id, e164)  # her first phone, as queue.locked_recipient takes it
    return [Member(cid, name, contacts(phones.get(cid), email)) for cid, name, email in people]


async def gate(
    session: AsyncSession, members: Sequence[Member], now: datetime.datetime, config: NotifyConfig
) -> list[Decision]:
    """The policy gate's decision on a marketing message to each member now, in the same order."""
    candidates = await candidates_for(session, [(m.id, m.contacts) for m in members], Purpose.MARKETING, now, config)
    rules = config.rules()
    return [decide(candidate, now, rules) for candidate in candidates]
