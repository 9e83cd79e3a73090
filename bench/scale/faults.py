"""The faults of a scale run: which exist, when each is played, and playing them (SIGKILL, restarts, an outage)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from scale.stack import Stack

# Each fault and the fraction of the run at which it is injected: one at a time, so each one's effect shows.
FAULTS = {"kill_api": 0.15, "kill_worker": 0.3, "restart_redis": 0.45, "restart_postgres": 0.6, "courier_outage": 0.75}
PROCESS_FAULTS = ("kill_api", "kill_worker", "restart_redis", "restart_postgres")  # need the stack, not embedded
SERVER_FAULTS = {"restart_redis": "Redis", "restart_postgres": "PostgreSQL"}

SandboxFaults = Callable[[dict[str, Any]], Awaitable[None]]


def parse_faults(text: str) -> list[str]:
    """A comma list of fault names, or `all`; ValueError naming the first unknown one."""
    names = list(FAULTS) if text.strip() == "all" else [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}: choose from {', '.join(FAULTS)} (or all)")
    return list(dict.fromkeys(names))


@dataclass
class Fault:
    name: str
    at: float  # seconds into the run when it is injected
    detail: dict[str, Any] = field(default_factory=dict)
    injected_at: float | None = None
    healed_at: float | None = None  # when the part came back (stack.sh up returned, server answered, fault cleared)
    error: str | None = None


def schedule(seconds: float, names: list[str], *, processes: bool, api_port: int | None = None) -> list[Fault]:
    """The named faults at their fractions of the run; without `processes` (the embedded run) only the outage.
    kill_api kills `api_port`: the first API process, the one that once received every courier webhook."""
    details: dict[str, dict[str, Any]] = {
        "kill_api": {"port": api_port, "down_s": 3},
        # The courier slowed first, so that the worker dies in the middle of courier calls, holding claims.
        "kill_worker": {"worker": "worker-1", "down_s": 3, "courier_delay_ms": 3000, "slow_s": 1.5},
        "restart_redis": {"down_s": 2},
        "restart_postgres": {"down_s": 2},
        "courier_outage": {"down_s": max(2.0, 0.1 * seconds)},
    }
    return [Fault(n, round(FAULTS[n] * seconds, 1), details[n]) for n in FAULTS
            if n in names and (processes or n not in PROCESS_FAULTS)]  # fmt: skip


class Faults:
    """Plays each fault at its time, measured from `t0` (the workload's start)."""

    def __init__(self, faults: list[Fault], sandbox_faults: SandboxFaults, stack: Stack | None = None) -> None:
        self.faults = faults
        self.t0 = time.perf_counter()
        self.sandbox_faults = sandbox_faults
        self.stack = stack

    def _now(self) -> float:
        return round(time.perf_counter() - self.t0, 3)

    async def run(self, t0: float) -> None:
        self.t0 = t0
        await asyncio.gather(*(self._play(f) for f in self.faults))

    async def _play(self, fault: Fault) -> None:
        await asyncio.sleep(max(0.0, self.t0 + fault.at - time.perf_counter()))
        fault.injected_at = self._now()
        try:
            await getattr(self, "_" + fault.name)(fault)
            fault.healed_at = self._now()
        except Exception as exc:  # the report names a fault that could not be played; the run goes on
            fault.error = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]

    def _need_stack(self) -> Stack:
        if self.stack is None:
            raise RuntimeError("process faults need the stack")
        return self.stack

    async def _restart(self, fault: Fault, name: str) -> None:
        stack = self._need_stack()
        fault.detail["pid"] = stack.kill_group(name)
        await asyncio.sleep(fault.detail["down_s"])
        fault.detail["up"] = (await stack.run("up", attempts=3)).splitlines()[-4:]

    async def _kill_api(self, fault: Fault) -> None:
        await self._restart(fault, f"api-{fault.detail['port']}")

    async def _kill_worker(self, fault: Fault) -> None:
        await self.sandbox_faults({"delay_ms": fault.detail["courier_delay_ms"]})
        try:
            await asyncio.sleep(fault.detail["slow_s"])
            fault.detail["claimed_at_kill"] = await self._claimed()
            await self._restart(fault, fault.detail["worker"])
        finally:
            await self.sandbox_faults({"delay_ms": 0})

    async def _claimed(self) -> int:
        """Outbox messages some worker holds a claim on right now (the killed one's among them)."""
        url = self._need_stack().settings()["DATABASE_URL"]
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                query = "SELECT count(*) FROM outbox WHERE processed_at IS NULL AND locked_until > now()"
                return int((await conn.execute(text(query))).scalar_one())
        finally:
            await engine.dispose()

    async def _restart_redis(self, fault: Fault) -> None:
        await self._need_stack().restart_redis(fault.detail["down_s"])

    async def _restart_postgres(self, fault: Fault) -> None:
        await self._need_stack().restart_postgres(fault.detail["down_s"])

    async def _courier_outage(self, fault: Fault) -> None:
        await self.sandbox_faults({"fail_next": 1_000_000, "status_code": 503})
        await asyncio.sleep(fault.detail["down_s"])
        await self.sandbox_faults({"fail_next": 0})


def sandbox_faults(sandbox_url: str, token: str) -> SandboxFaults:
    """Sets the sandbox courier's faults (its `/_faults` endpoint, with its API token)."""

    async def send(body: dict[str, Any]) -> None:
        async with httpx.AsyncClient(base_url=sandbox_url, headers={"Authorization": f"Bearer {token}"}) as client:
            (await client.post("/_faults", json=body)).raise_for_status()

    return send
