"""What every scenario takes and gives: the run's options, its checks and figures, and its entry in SCENARIOS."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from courier_faults.stand import COURIERS, Stand


@dataclass(frozen=True)
class Options:
    timeout_s: float  # the adapters' whole-call timeout
    fault_s: float  # how long the fault lasts
    others: int  # item 1: orders shipped, half at the broken courier and half at the other, while it lasts
    recover_within_s: float
    orders: int = 6  # items 2 and 4: orders cancelled, merged or left without webhooks; item 5: rounds of changes
    reconcile_s: float = 1.0  # ORDERS_RECONCILE_S for the scenarios that rely on reconciliation


@dataclass
class Result:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)  # (what, held, detail)
    figures: dict[str, float | int | None] = field(default_factory=dict)

    def check(self, what: str, held: bool, detail: str = "") -> None:
        self.checks.append((what, held, detail))

    @property
    def ok(self) -> bool:
        return all(held for _, held, _ in self.checks)


@dataclass(frozen=True)
class Scenario:
    item: str  # the item it repeats
    what: str
    run: Callable[[Stand, str, Options], Awaitable[Result]]
    reconcile: bool = False  # the service reconciles every `Options.reconcile_s` (otherwise never, during a run)
    couriers: tuple[str, ...] = COURIERS  # the couriers the fault exists at (GHTK has no recipient limit)


def other(courier: str) -> str:
    return next(c for c in COURIERS if c != courier)


@contextlib.asynccontextmanager
async def sampling(probe: Callable[[], Awaitable[None]], every_s: float = 0.05) -> AsyncIterator[list[int]]:
    """Run `probe` again and again in the background while the block runs; yields [samples taken]."""
    taken = [0]
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            await probe()
            taken[0] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    task = asyncio.create_task(loop())
    try:
        yield taken
    finally:
        stop.set()
        await task
        await probe()  # one last look, after everything settled
        taken[0] += 1
