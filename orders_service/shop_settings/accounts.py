"""The GHN and GHTK accounts in force in this process: the environment's, overridden by what an admin saved in the
dashboard, re-read from `shop_settings` at most every few seconds, like the loyalty program and the quiet hours.

Every process keeps one `CourierAccounts` in its sessions' `info`: API processes, Celery workers and the embedded
relay alike, so a saved account reaches each of them within TTL seconds, without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy import Connection, event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from couriers.base import Courier
from orders_service.db.models import ShopSetting
from orders_service.infra.settings import Settings
from orders_service.shipping.registry import EXTERNAL, CourierRegistry, build_courier, shop_from
from orders_service.shop_settings.schemas import CourierAccount

log = logging.getLogger(__name__)
ACCOUNTS_KEY = "courier_accounts"
COURIERS = "couriers"  # the `shop_settings` row


def account_in_force(settings: Settings, name: str, saved: Any) -> dict[str, str]:
    """The environment's values for `name` (ORDERS_GHN_*, base URL included), each one overridden by a value an
    admin saved; a blank saved value leaves the environment's. Raises ValueError (msgspec's ValidationError) for
    a saved account that does not fit CourierAccount: a row edited by hand, as the dashboard refuses those."""
    account = msgspec.convert(saved or {}, CourierAccount)
    given = {key: value for key, value in msgspec.structs.asdict(account).items() if value}
    return {**settings.couriers.get(name, {}), **given}


class CourierAccounts:
    """One per process: builds the adapters for the accounts in force into the registry, and again when an admin
    changes them. Work in progress keeps the adapter it took; the next `registry.get` gets the new one."""

    TTL = 5.0

    def __init__(self, settings: Settings, registry: CourierRegistry) -> None:
        self.settings, self.registry = settings, registry
        self.shop = shop_from(settings)
        self._in_force: dict[str, dict[str, str]] = {}
        self._refused: dict[str, Any] = {}  # what was refused last, so that a bad row is logged once, not every TTL
        self._read_at: float | None = None
        self._lock = threading.Lock()
        # The environment's accounts, before anything is read: a value that cannot be used stops the start here.
        for name in EXTERNAL:
            values = account_in_force(settings, name, None)
            self._use(name, values, build_courier(name, values, self.shop, registry))

    def expire(self) -> None:
        self._read_at = None

    def due(self) -> bool:
        return self._read_at is None or time.monotonic() - self._read_at >= self.TTL

    def refresh(self, connection: Connection) -> None:
        with self._lock:
            if not self.due():
                return
            self._read_at = time.monotonic()
        self.apply(connection.execute(select(ShopSetting.value).where(ShopSetting.key == COURIERS)).scalar())

    def apply(self, saved: Any) -> None:
        """Use the accounts `saved` (the row's value; None: nothing saved, the environment's). An account that
        cannot be used is logged and the adapter in force kept: a bad row must not stop the shop's shipping."""
        for name in EXTERNAL:
            try:
                if saved is not None and not isinstance(saved, dict):
                    raise ValueError(f"the saved row is {type(saved).__name__}, not an object")
                values = account_in_force(self.settings, name, (saved or {}).get(name))
                if values == self._in_force.get(name):
                    self._refused.pop(name, None)
                    continue
                courier = build_courier(name, values, self.shop, self.registry)
            except ValueError as error:
                self._refuse(name, saved, error)
                continue
            self._use(name, values, courier)

    def _use(self, name: str, values: dict[str, str], courier: Courier | None) -> None:
        # The adapter replaced borrows the registry's pool: nothing of it needs closing, and a call it is making
        # now goes through.
        if courier is None:
            self.registry.remove(name)
        else:
            self.registry.add(courier)
        self._in_force[name] = values
        self._refused.pop(name, None)

    def _refuse(self, name: str, what: Any, error: Exception) -> None:
        if self._refused.get(name) != what:
            log.error("the saved %s account cannot be used (%s); the one in force stays", name, error)
        self._refused[name] = what

    async def reread(self, db: async_sessionmaker[AsyncSession], *, force: bool = False) -> None:
        """Re-read in a short transaction of its own, if due (or `force`d): for checks made before the caller's
        transaction begins (a webhook's signature), and at start."""
        if force:
            self.expire()
        if self.due():
            async with db() as session:
                await session.connection()  # the transaction's start reads the row (see _refresh below)


@event.listens_for(Session, "after_begin")
def _refresh(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    source = session.info.get(ACCOUNTS_KEY)
    if isinstance(source, CourierAccounts):
        source.refresh(connection)


async def load_courier_accounts(
    db: async_sessionmaker[AsyncSession],
    accounts: CourierAccounts,
    attempts: int = 30,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """The saved accounts at start. A database still starting (a restart, a fresh stack) is waited for, about a
    minute at most, rather than ending the API process: a process manager would only start it again."""
    for attempt in range(attempts):
        try:
            await accounts.reread(db, force=True)
            return
        except (OSError, DBAPIError) as error:
            if attempt == attempts - 1:
                raise
            log.warning("the database does not answer yet (%s); courier accounts in a moment", type(error).__name__)
            await sleep(min(2.0, 0.1 * 2**attempt))
