"""The effective shop settings: what an admin saved in the dashboard, else the environment's value."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from orders_service.db.engine import begin_write
from orders_service.db.models import ShopSetting
from orders_service.domain.errors import InvalidField
from orders_service.loyalty.tiers import parse_tiers
from orders_service.settings import Settings
from orders_service.shipping.registry import CourierRegistry, external_couriers
from orders_service.shop_settings.schemas import CourierAccount, LoyaltyRules, NotificationRules

log = logging.getLogger(__name__)
LOYALTY, COURIERS, NOTIFICATIONS = "loyalty", "couriers", "notifications"
ACCOUNTS = ("ghn", "ghtk")
SECRETS = ("token", "webhook_secret")


def mask(secret: str) -> str:
    """`••••1234`: enough to tell two tokens apart, not enough to use one."""
    return "" if not secret else "••••" + secret[-4:] if len(secret) > 8 else "••••"


async def _stored(session: AsyncSession) -> dict[str, dict[str, Any]]:
    return {row.key: row.value for row in await session.scalars(select(ShopSetting))}


def loyalty_of(settings: Settings, stored: dict[str, Any] | None) -> LoyaltyRules:
    env = LoyaltyRules(
        tiers=settings.tiers,
        vnd_per_point=settings.vnd_per_point,
        vnd_per_redeemed_point=settings.vnd_per_redeemed_point,
        points_expire_days=settings.points_expire_days,
        tier_downgrade=settings.tier_downgrade,
        tier_review_days=settings.tier_review_days,
    )
    return msgspec.convert({**msgspec.to_builtins(env), **(stored or {})}, LoyaltyRules) if stored else env


def couriers_of(settings: Settings, stored: dict[str, Any] | None) -> dict[str, CourierAccount]:
    found = {}
    for name in ACCOUNTS:
        env = {k: v for k, v in settings.couriers.get(name, {}).items() if k in CourierAccount.__struct_fields__}
        found[name] = msgspec.convert({**env, **(stored or {}).get(name, {})}, CourierAccount)
    return found


async def effective(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    stored = await _stored(session)
    return {
        LOYALTY: loyalty_of(settings, stored.get(LOYALTY)),
        COURIERS: couriers_of(settings, stored.get(COURIERS)),
        NOTIFICATIONS: msgspec.convert(stored.get(NOTIFICATIONS) or {}, NotificationRules),
        "updated": {key: (row_at, by) for key, (row_at, by) in (await _audit(session)).items()},
    }


async def _audit(session: AsyncSession) -> dict[str, tuple[datetime.datetime, str]]:
    rows = await session.execute(select(ShopSetting.key, ShopSetting.updated_at, ShopSetting.updated_by))
    return {key: (at, by) for key, at, by in rows.tuples()}


async def save(session: AsyncSession, key: str, value: msgspec.Struct, by: str, now: datetime.datetime) -> None:
    if isinstance(value, LoyaltyRules):
        try:
            parse_tiers(value.tiers, "tiers")
        except ValueError as error:
            raise InvalidField("tiers", str(error)) from None
    await begin_write(session)
    row = await session.scalar(select(ShopSetting).where(ShopSetting.key == key))
    data = msgspec.to_builtins(value)
    if row is None:
        session.add(ShopSetting(key=key, value=data, updated_at=now, updated_by=by[:64]))
    else:
        row.value, row.updated_at, row.updated_by = data, now, by[:64]
    await session.flush()


async def save_couriers(
    session: AsyncSession, settings: Settings, given: dict[str, CourierAccount], by: str, now: datetime.datetime
) -> None:
    """A blank secret keeps the one in force (the form shows it masked, never in full)."""
    await begin_write(session)
    current = couriers_of(settings, (await _stored(session)).get(COURIERS))
    merged = {}
    for name, account in given.items():
        values = msgspec.to_builtins(account)
        for secret in SECRETS:
            if not values[secret]:
                values[secret] = getattr(current[name], secret)
        merged[name] = values
    row = await session.scalar(select(ShopSetting).where(ShopSetting.key == COURIERS))
    if row is None:
        session.add(ShopSetting(key=COURIERS, value=merged, updated_at=now, updated_by=by[:64]))
    else:
        row.value, row.updated_at, row.updated_by = merged, now, by[:64]
    await session.flush()


async def apply_courier_accounts(session: AsyncSession, settings: Settings, registry: CourierRegistry) -> None:
    """GHN and GHTK adapters for the accounts in force: at start, and in this process when an admin saves them."""
    stored = (await _stored(session)).get(COURIERS)
    if not stored:
        return  # the environment's accounts, already built with the runtime
    accounts = {
        name: {**settings.couriers.get(name, {}), **{k: v for k, v in values.items() if v}}
        for name, values in stored.items()
    }
    for courier in external_couriers(msgspec.structs.replace(settings, couriers={**settings.couriers, **accounts})):
        await registry.swap(courier)


async def load_courier_accounts(
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    registry: CourierRegistry,
    attempts: int = 30,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """The saved accounts at start. A database still starting (a restart, a fresh stack) is waited for, about a
    minute at most, rather than ending the API process: a process manager would only start it again."""
    for attempt in range(attempts):
        try:
            async with db() as session:
                await apply_courier_accounts(session, settings, registry)
            return
        except (OSError, DBAPIError) as error:
            if attempt == attempts - 1:
                raise
            log.warning("the database does not answer yet (%s); courier accounts in a moment", type(error).__name__)
            await sleep(min(2.0, 0.1 * 2**attempt))
