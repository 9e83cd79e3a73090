"""The effective shop settings: what an admin saved in the dashboard, else the environment's value."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.engine import begin_write
from orders_service.db.models import ShopSetting
from orders_service.domain.errors import InvalidField
from orders_service.domain.phones import normalise_phone
from orders_service.infra.settings import Settings
from orders_service.loyalty.tiers import parse_tiers
from orders_service.shipping.registry import EXTERNAL
from orders_service.shop_settings.accounts import COURIERS, account_in_force
from orders_service.shop_settings.identity import SHOP, identity_of
from orders_service.shop_settings.schemas import (
    CourierAccount,
    LoyaltyRules,
    NotificationRules,
    ShippingRules,
    ShopContact,
)

LOYALTY, NOTIFICATIONS, SHIPPING = "loyalty", "notifications", "shipping"
ACCOUNTS = EXTERNAL[:2]  # the couriers whose accounts the form edits: GHN and GHTK (the others: environment only)
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
    """The accounts in force, as the adapters get them (accounts.account_in_force), in the form's fields."""
    found = {}
    for name in ACCOUNTS:
        try:
            values = account_in_force(settings, name, (stored or {}).get(name))
        except ValueError:  # a row edited by hand, which the adapters refuse too (see accounts.CourierAccounts)
            values = account_in_force(settings, name, None)
        found[name] = CourierAccount(**{k: v for k, v in values.items() if k in CourierAccount.__struct_fields__})
    return found


def notifications_of(settings: Settings, stored: dict[str, Any] | None) -> NotificationRules:
    """The quiet hours and marketing cap in force: the environment's (ORDERS_QUIET_HOURS, ...) unless saved."""
    env = NotificationRules(
        quiet_start=settings.notify.quiet_start,
        quiet_end=settings.notify.quiet_end,
        marketing_cap_per_day=settings.notify.marketing_cap,
    )
    # Saved values were checked when saved; the environment's are the gate's own, whatever the form would allow.
    saved = {key: value for key, value in (stored or {}).items() if key in NotificationRules.__struct_fields__}
    return msgspec.structs.replace(env, **saved)


def shipping_of(settings: Settings, stored: dict[str, Any] | None) -> ShippingRules:
    """The ship rule and edit window in force: the environment's (ORDERS_SHIP_RULE, ORDERS_EDIT_WINDOW_MINUTES)
    unless an admin saved them."""
    saved = {key: value for key, value in (stored or {}).items() if key in ShippingRules.__struct_fields__}
    env = {"ship_rule": settings.ship_rule, "edit_window_minutes": settings.edit_window_minutes}
    return msgspec.convert({**env, **saved}, ShippingRules)


_STORED = select(ShopSetting.key, ShopSetting.value).where(ShopSetting.key.in_(bindparam("keys", expanding=True)))


async def stored_groups(session: AsyncSession, keys: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """What an admin saved under each of `keys` (a key not saved is absent), in one statement: for a page that
    needs several groups (the customer's page: the shop and its edit window)."""
    rows = await session.execute(_STORED, {"keys": list(keys)})
    return {key: value for key, value in rows.tuples() if isinstance(value, dict)}


async def shipping_rules(session: AsyncSession, settings: Settings) -> ShippingRules:
    row = await session.scalar(select(ShopSetting.value).where(ShopSetting.key == SHIPPING))
    return shipping_of(settings, row)


async def effective(session: AsyncSession, settings: Settings) -> dict[str, Any]:
    stored = await _stored(session)
    return {
        LOYALTY: loyalty_of(settings, stored.get(LOYALTY)),
        COURIERS: couriers_of(settings, stored.get(COURIERS)),
        NOTIFICATIONS: notifications_of(settings, stored.get(NOTIFICATIONS)),
        SHOP: stored.get(SHOP) or {},  # what an admin set; blank fields show the environment's (`shop_env`)
        "shop_env": identity_of(settings, None),
        SHIPPING: shipping_of(settings, stored.get(SHIPPING)),
        "updated": {key: (row_at, by) for key, (row_at, by) in (await _audit(session)).items()},
    }


async def _audit(session: AsyncSession) -> dict[str, tuple[datetime.datetime, str]]:
    rows = await session.execute(select(ShopSetting.key, ShopSetting.updated_at, ShopSetting.updated_by))
    return {key: (at, by) for key, at, by in rows.tuples()}


async def save(session: AsyncSession, key: str, value: msgspec.Struct, by: str, now: datetime.datetime) -> None:
    if isinstance(value, ShopContact):
        value = ShopContact(
            name=value.name.strip(),
            phone=normalise_phone(value.phone, "phone") if value.phone.strip() else "",
            address=value.address.strip(),
            public_url=value.public_url.strip().rstrip("/"),
        )
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
