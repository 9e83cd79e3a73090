"""deploy/stack.sh from the bench: where the stack runs (ports, folder, database, queue, servers), up and down."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path

import redis.asyncio
from benchlib.servers import REPO, run_command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

STACK = REPO / "deploy" / "stack.sh"
# stack.sh's own defaults, which the README's production section uses: a bench run without options is that stack.
STACK_DIR = Path("/tmp/orders-service-stack")
API_PORTS = [8001, 8002]
SANDBOX_PORT = 8090
PG_PORT, REDIS_PORT = 54339, 56389  # the stack's own servers; the test servers (54329, 56379) are never touched
DATABASE, QUEUE = "orders_stack", "orders-stack"
# Read by stack.sh, postgres.sh or redis.sh when set: a developer's shell must not move the run elsewhere.
_SERVER_VARS = {"DATABASE_URL", "PG_PORT", "PG_DIR", "REDIS_PORT", "REDIS_DIR"}


@dataclass
class StackConfig:
    """Everything stack.sh is told through its environment; `pg_url`/`redis_url`: servers it is given (it then
    neither starts, restarts nor stops them), else it starts its own on `pg_port`/`redis_port`."""

    stack_dir: Path = STACK_DIR
    api_ports: list[int] = field(default_factory=lambda: list(API_PORTS))
    sandbox_port: int = SANDBOX_PORT
    pg_port: int = PG_PORT
    redis_port: int = REDIS_PORT
    database: str = DATABASE
    queue: str = QUEUE
    workers: int = 2
    pg_url: str | None = None
    redis_url: str | None = None
    public_url: str | None = None  # where links and the sandbox's webhooks point: the load balancer
    servers_inside: bool = False  # keep its own PostgreSQL's and Redis's data in stack_dir (a throwaway run)

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}/sandbox-courier"

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ORDERS_", "STACK_")) and k not in _SERVER_VARS}  # fmt: skip
        env.update(STACK_DIR=str(self.stack_dir), API_PORTS=" ".join(map(str, self.api_ports)),
                   WORKERS=str(self.workers), SANDBOX_PORT=str(self.sandbox_port), STACK_PG_PORT=str(self.pg_port),
                   STACK_REDIS_PORT=str(self.redis_port), STACK_DB=self.database, STACK_QUEUE=self.queue)  # fmt: skip
        for name, value in (("STACK_PG_URL", self.pg_url), ("STACK_REDIS_URL", self.redis_url),
                            ("STACK_PUBLIC_URL", self.public_url)):  # fmt: skip
            if value:
                env[name] = value
        if self.servers_inside:
            env.update(STACK_PG_DIR=str(self.stack_dir / "postgres"), STACK_REDIS_DIR=str(self.stack_dir / "redis"))
        return env


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config

    def settings(self) -> dict[str, str]:
        """The stack's settings (its env file) over ours, for the CLI."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"}
        for line in (self.config.stack_dir / "env").read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                env[key] = value
        return env

    async def run(self, command: str, attempts: int = 1) -> str:
        """deploy/stack.sh COMMAND; `attempts` > 1 runs it again when it fails (an API process started while
        PostgreSQL restarts exits at start-up, and `up` then reports it not ready)."""
        for attempt in range(1, attempts + 1):
            try:
                return await run_command(["bash", str(STACK), command], self.config.environ(), REPO, limit_s=180)
            except RuntimeError:
                if attempt == attempts:
                    raise
                await asyncio.sleep(1)
        raise AssertionError("unreachable")

    def kill_group(self, name: str) -> int:
        """SIGKILL the process `name` (its pid file) and its children (a worker's prefork pool)."""
        pid = int((self.config.stack_dir / "pids" / f"{name}.pid").read_text())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        return pid

    def _server_env(self) -> dict[str, str]:
        env = self.config.environ()
        env.update(PG_PORT=str(self.config.pg_port), REDIS_PORT=str(self.config.redis_port))
        if self.config.servers_inside:
            env.update(PG_DIR=env["STACK_PG_DIR"], REDIS_DIR=env["STACK_REDIS_DIR"])
        return env

    async def restart_redis(self, down_s: float) -> None:
        self._refuse_given("Redis", self.config.redis_url)
        port = str(self.config.redis_port)
        await run_command(["redis-cli", "-p", port, "shutdown", "nosave"], self._server_env(), REPO)
        await asyncio.sleep(down_s)
        await run_command(["bash", str(REPO / "deploy" / "redis.sh"), "start"], self._server_env(), REPO)

    async def restart_postgres(self, down_s: float) -> None:
        self._refuse_given("PostgreSQL", self.config.pg_url)
        await run_command(["bash", str(REPO / "deploy" / "postgres.sh"), "stop"], self._server_env(), REPO)
        await asyncio.sleep(down_s)
        await run_command(["bash", str(REPO / "deploy" / "postgres.sh"), "start"], self._server_env(), REPO)

    @staticmethod
    def _refuse_given(what: str, url: str | None) -> None:
        if url:
            raise RuntimeError(f"{what} was given ({url}): the bench never restarts a server it did not start")

    async def stop_servers(self) -> None:
        """The stack's own PostgreSQL and Redis (stack.sh down leaves them running); a throwaway run's data too."""
        if not self.config.pg_url:
            await run_command(["bash", str(REPO / "deploy" / "postgres.sh"), "stop"], self._server_env(), REPO)
        if not self.config.redis_url:
            await run_command(["bash", str(REPO / "deploy" / "redis.sh"), "stop"], self._server_env(), REPO)
        if self.config.servers_inside:
            for folder in ("postgres", "redis"):
                await asyncio.to_thread(shutil.rmtree, self.config.stack_dir / folder, True)

    async def forget(self) -> None:
        """The run's database and Celery queue on servers it was given (its own servers keep theirs, as stack.sh
        does): a given server outlives many runs."""
        if self.config.redis_url:
            client = redis.asyncio.Redis.from_url(self.config.redis_url)
            try:
                queue = self.config.queue
                await client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
            finally:
                await client.aclose()
        if not self.config.pg_url:
            return
        server = make_url(self.config.pg_url).set(database="postgres")
        engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{self.config.database}" WITH (FORCE)'))
        finally:
            await engine.dispose()
