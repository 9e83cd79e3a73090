"""deploy/stack.sh from the bench: up, down, its env file, and the faults (SIGKILL, Redis and PostgreSQL restarts)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from benchlib.servers import REPO, run_command

STACK = REPO / "deploy" / "stack.sh"
STACK_DIR = Path(os.environ.get("STACK_DIR", "/tmp/orders-service-stack"))
PG_PORT, REDIS_PORT = "54339", "56389"  # the stack's own servers; the test servers (54329, 56379) are never touched
API_PORTS = [8001, 8002]
SANDBOX_URL = "http://127.0.0.1:8090/sandbox-courier"


def stack_env() -> dict[str, str]:
    """The stack's settings (its env file) over ours, for the CLI."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"}
    for line in (STACK_DIR / "env").read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            env[key] = value
    return env


async def stack(command: str, attempts: int = 1) -> str:
    """deploy/stack.sh COMMAND; `attempts` > 1 runs it again when it fails (an API process started while
    PostgreSQL restarts exits at start-up, and `up` then reports it not ready)."""
    env = {**os.environ, "STACK_PG_PORT": PG_PORT, "STACK_REDIS_PORT": REDIS_PORT}
    for attempt in range(1, attempts + 1):
        try:
            return await run_command(["bash", str(STACK), command], env, REPO, limit_s=180)
        except RuntimeError:
            if attempt == attempts:
                raise
            await asyncio.sleep(1)
    raise AssertionError("unreachable")


async def stop_servers() -> None:
    """PostgreSQL and Redis of the stack (stack.sh down leaves them running)."""
    env = {**os.environ, "PG_PORT": PG_PORT, "REDIS_PORT": REDIS_PORT}
    await run_command(["bash", str(REPO / "deploy" / "postgres.sh"), "stop"], env, REPO)
    await run_command(["bash", str(REPO / "deploy" / "redis.sh"), "stop"], env, REPO)


@dataclass
class Fault:
    name: str
    at: float  # seconds into the run when it is injected
    detail: dict[str, Any] = field(default_factory=dict)
    injected_at: float | None = None
    healed_at: float | None = None  # when the part came back (stack.sh up returned, server answered, fault cleared)
    error: str | None = None


def _kill_group(name: str) -> int:
    pid = int((STACK_DIR / "pids" / f"{name}.pid").read_text())
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # its children too (a worker's prefork pool)
    return pid


async def _sandbox_faults(body: dict[str, Any]) -> None:
    token = stack_env()["ORDERS_SANDBOX_TOKEN"]
    async with httpx.AsyncClient(base_url=SANDBOX_URL, headers={"Authorization": f"Bearer {token}"}) as client:
        (await client.post("/_faults", json=body)).raise_for_status()


class StackFaults:
    """Plays each fault at its time, measured from `t0` (the workload's start)."""

    def __init__(self, faults: list[Fault], t0: float, sandbox_faults: Any = None) -> None:
        self.faults = faults
        self.t0 = t0
        self.sandbox_faults = sandbox_faults or _sandbox_faults

    def _now(self) -> float:
        return round(time.perf_counter() - self.t0, 3)

    async def run(self) -> None:
        await asyncio.gather(*(self._play(f) for f in self.faults))

    async def _play(self, fault: Fault) -> None:
        await asyncio.sleep(max(0.0, self.t0 + fault.at - time.perf_counter()))
        fault.injected_at = self._now()
        try:
            await getattr(self, "_" + fault.name)(fault)
        except Exception as exc:  # the report names a fault that could not be played; the run goes on
            fault.error = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]

    async def _kill_api(self, fault: Fault) -> None:
        fault.detail["pid"] = _kill_group(f"api-{fault.detail['port']}")
        await asyncio.sleep(fault.detail.get("down_s", 3))
        fault.detail["up"] = (await stack("up", attempts=3)).splitlines()[-4:]
        fault.healed_at = self._now()

    async def _kill_worker(self, fault: Fault) -> None:
        fault.detail["pid"] = _kill_group(fault.detail["worker"])
        await asyncio.sleep(fault.detail.get("down_s", 3))
        fault.detail["up"] = (await stack("up", attempts=3)).splitlines()[-4:]
        fault.healed_at = self._now()

    async def _restart_redis(self, fault: Fault) -> None:
        env = {**os.environ, "REDIS_PORT": REDIS_PORT}
        await run_command(["redis-cli", "-p", REDIS_PORT, "shutdown", "nosave"], env, REPO)
        await asyncio.sleep(fault.detail.get("down_s", 2))
        await run_command(["bash", str(REPO / "deploy" / "redis.sh"), "start"], env, REPO)
        fault.healed_at = self._now()

    async def _restart_postgres(self, fault: Fault) -> None:
        env = {**os.environ, "PG_PORT": PG_PORT}
        await run_command(["bash", str(REPO / "deploy" / "postgres.sh"), "stop"], env, REPO)
        await asyncio.sleep(fault.detail.get("down_s", 2))
        await run_command(["bash", str(REPO / "deploy" / "postgres.sh"), "start"], env, REPO)
        fault.healed_at = self._now()

    async def _courier_outage(self, fault: Fault) -> None:
        await self.sandbox_faults({"fail_next": 1_000_000, "status_code": 503})
        await asyncio.sleep(fault.detail.get("down_s", 5))
        await self.sandbox_faults({"fail_next": 0})
        fault.healed_at = self._now()


def schedule(seconds: float, *, processes: bool) -> list[Fault]:
    """The faults at fixed fractions of the run; without `processes`, only the courier outage."""
    faults = [Fault("courier_outage", round(0.75 * seconds, 1), {"down_s": max(2.0, 0.1 * seconds)})]
    if processes:
        faults = [
            Fault("kill_api", round(0.15 * seconds, 1), {"port": 8002, "down_s": 3}),
            Fault("kill_worker", round(0.3 * seconds, 1), {"worker": "worker-1", "down_s": 3}),
            Fault("restart_redis", round(0.45 * seconds, 1), {"down_s": 2}),
            Fault("restart_postgres", round(0.6 * seconds, 1), {"down_s": 2}),
            *faults,
        ]
    return faults
