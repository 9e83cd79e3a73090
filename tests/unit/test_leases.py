"""Lease renewals are never cut off halfway (issue 16, item 1).

A renewal is a write transaction. Cancelled halfway (the work it guards ended, by a courier timeout, at the
moment the renewal began: the old 10 s timeout beside a 10 s renewal), it left its connection mid-statement: on
PostgreSQL the pool handed out a connection with "another operation in progress", on SQLite the writer's turn
stayed taken. The block now waits for a renewal under way to finish, and stops the beat between renewals.
"""

from __future__ import annotations

import asyncio

import pytest

from orders_service.db.leases import kept_alive

pytestmark = pytest.mark.anyio


class Renewal:
    """A renewal that takes a while (a write transaction waiting for its turn) and says how it ended."""

    def __init__(self) -> None:
        self.started, self.ended, self.go_on = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.finished = self.cancelled = 0

    async def __call__(self) -> None:
        self.started.set()
        try:
            await self.go_on.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        else:
            self.finished += 1
        finally:
            self.ended.set()


async def test_a_renewal_under_way_when_the_work_ends_is_finished_not_cut_off() -> None:
    renewal = Renewal()

    async def let_it_finish() -> None:
        await asyncio.sleep(0.05)
        renewal.go_on.set()

    async with kept_alive(renewal, 0.01, "a test lease"):
        await renewal.started.wait()  # the work ends while a renewal is under way
        finishing = asyncio.create_task(let_it_finish())
    await finishing
    await renewal.ended.wait()
    assert (renewal.cancelled, renewal.finished) == (0, 1)


async def test_no_renewal_starts_after_the_work_ended() -> None:
    renewal = Renewal()
    renewal.go_on.set()
    async with kept_alive(renewal, 0.01, "a test lease"):
        await renewal.started.wait()
    done = renewal.finished
    await asyncio.sleep(0.05)
    assert renewal.finished == done and renewal.cancelled == 0


async def test_the_holder_cancelled_still_leaves_the_renewal_whole() -> None:
    renewal = Renewal()

    async def holder() -> None:
        async with kept_alive(renewal, 0.01, "a test lease"):
            await asyncio.sleep(3600)

    task = asyncio.create_task(holder())
    await renewal.started.wait()
    task.cancel()  # a Celery time limit, the watchdog, a shutdown
    await asyncio.wait([task])  # the holder ends, without waiting for ever on the renewal
    assert task.cancelled()
    renewal.go_on.set()
    await renewal.ended.wait()
    assert (renewal.cancelled, renewal.finished) == (0, 1)
