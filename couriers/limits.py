"""Bounds on the calls a process makes to one courier: how many at once, and how long each may take in all.

httpx's timeouts bound each step of a call (connect, each read, each write, a free connection), not the whole:
an answer that trickles in, or a transport that ignores them (an in-process ASGI app), can keep a call going
for ever. A relay that waited on such a call used to stop for every order and every courier. Here the whole
call has a deadline, and a courier that hangs can hold at most `max_in_flight` calls: the relay's other
slots stay free for the other couriers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from couriers.base import TransientCourierError

MAX_IN_FLIGHT = 4


class CallLimit:
    """One courier's calls in this process. Adapters built for one courier share one (the registry lends it)."""

    def __init__(self, courier: str, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, not {max_in_flight}")
        self.courier, self.max_in_flight = courier, max_in_flight
        self._slots = asyncio.Semaphore(max_in_flight)

    @property
    def in_flight(self) -> int:
        return self.max_in_flight - self._slots._value

    @contextlib.asynccontextmanager
    async def call(self, what: str, timeout_s: float) -> AsyncIterator[None]:
        """A turn for one call, waited for at most `timeout_s`, and the call's deadline: `timeout_s` in all.

        Both failures are transient: the message is retried later, with backoff, and the others go on.
        """
        try:
            async with asyncio.timeout(timeout_s):
                await self._slots.acquire()
        except TimeoutError:
            raise TransientCourierError(
                f"{self.courier} {what}: {self.max_in_flight} calls already under way for {timeout_s:g} s",
                code="in_flight_limit",
            ) from None
        try:
            async with asyncio.timeout(timeout_s):
                yield
        except TimeoutError as exc:
            raise TransientCourierError(
                f"{self.courier} {what} timed out after {timeout_s:g} s", code="timeout"
            ) from exc
        finally:
            self._slots.release()
