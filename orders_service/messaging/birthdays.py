"""The birthday job: on her local birthday (29 February on the 28th in other years), one message a year."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.templates import Template
from orders_service.db.engine import begin_write
from orders_service.db.models import Customer
from orders_service.infra import clock
from orders_service.messaging.config import config_of
from orders_service.messaging.models import Notification
from orders_service.messaging.queue import locked_recipient, queue_message


def is_birthday(birthday: datetime.date, today: datetime.date) -> bool:
    if (birthday.month, birthday.day) == (today.month, today.day):
        return True
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    return (birthday.month, birthday.day) == (2, 29) and (today.month, today.day) == (2, 28) and not leap


async def queue_birthdays(db: async_sessionmaker[AsyncSession], now: datetime.datetime | None = None) -> int:
    """Queue today's birthday messages; returns how many were new. Idempotent: the key is customer and year."""
    now = now or clock.now()
    async with db() as session:
        today = now.astimezone(ZoneInfo(config_of(session).time_zone)).date()
        rows = await session.execute(
            select(Customer.id, Customer.birthday).where(
                Customer.birthday.is_not(None), Customer.merged_into_id.is_(None)
            )
        )
        due = [customer_id for customer_id, birthday in rows.tuples() if birthday and is_birthday(birthday, today)]
        done = set(
            await session.scalars(
                select(Notification.customer_id).where(
                    Notification.dedupe_key.in_([f"birthday:{c}:{today.year}" for c in due])
                )
            )
        )
    queued = 0
    for customer_id in (c for c in due if c not in done):
        async with db() as session, session.begin():
            await begin_write(session)
            customer = await locked_recipient(session, customer_id)
            if customer is not None:
                key = f"birthday:{customer_id}:{today.year}"
                queued += await queue_message(session, Template.BIRTHDAY, {}, key, customer=customer) is not None
    return queued
