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
    """Call `renew` every `every_s` seconds while the block runs.

    A renewal is never cancelled halfway: it is a write transaction, and one cut off mid-statement left its
    connection busy (PostgreSQL: "another operation is in progress" for the next user of the pool) or the
    writer's turn taken (SQLite), which stopped every other writer. The work it guards often ends at the very
    moment a renewal starts (a courier timeout as long as the renewal period did, every time). So the beat is
    told to stop, and stops between renewals; a renewal under way is waited for up to one period, then left to
    finish on its own.
    """
    stop = asyncio.Event()

    async def beat() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every_s):
                    await stop.wait()
                return  # stopped between renewals
            try:
                await renew()
            except Exception as error:  # the database may be restarting: the next beat still comes in time
                log.warning("could not renew the lease on %s: %s", what, error)

    task = asyncio.create_task(beat(), name=f"lease:{what}")
    _BEATS.add(task)
    task.add_done_callback(_BEATS.discard)
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait([task], timeout=every_s)


# Beats that outlive their block (a renewal finishing) stay referenced until they end.
_BEATS: set[asyncio.Task[None]] = set()
