"""Leases kept alive while their holder works: long enough for any slow call, short after a crash.

A relay claims outbox messages, and a courier sync claims a shipment, by writing a time until which others keep
off. A fixed lease has to outlast the slowest call, so a worker killed mid-call used to hold its messages for
minutes. Here the lease is short and its holder renews it while it works (every ORDERS_LEASE_RENEW_S, at least
twice per lease: settings.check_timing); a holder that dies stops renewing, and the lease runs out within one
length.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def kept_alive(renew: Callable[[], Awaitable[object]], every_s: float, what: str) -> AsyncIterator[None]:
    """Call `renew` every `every_s` seconds while the block runs."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await renew()
            except Exception as error:  # the database may be restarting: the next beat still comes in time
                log.warning("could not renew the lease on %s: %s", what, error)

    task = asyncio.create_task(beat(), name=f"lease:{what}")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait([task])  # unlike `await task`, never mistakes its cancellation for ours
