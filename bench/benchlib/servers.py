"""Subprocesses: the server and the CLI, each in its own process group and always stopped; ports; /health."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent.parent
BENCH_DIR = REPO / "bench"
REQUEST_TIMEOUT = 10.0  # seconds, per HTTP request (the courier adapter's own timeout is 10 s too)
START_TIMEOUT = 60.0  # seconds for a server to answer, or for a CLI command to finish
ACTOR = "bench"  # the API key's name, which the app records as the event's actor_id


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_path() -> str:
    for candidate in (REPO / ".venv" / "bin" / "orders-service", Path(sys.executable).parent / "orders-service"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("orders-service")
    if found is None:
        raise SystemExit("orders-service not found: install the project into .venv (pip install -e .)")
    return found


def server_env(data_dir: Path, database_url: str | None, extra: dict[str, str], reexec_var: str) -> dict[str, str]:
    """The server's and the CLI's environment: ours without any ORDERS_* or DATABASE_URL (so nothing inherited,
    such as courier credentials, changes what is measured or reaches beyond loopback), and without the re-exec
    marker `reexec_var`, plus the data dir, the database and --server-env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"}
    env.pop(reexec_var, None)
    env["ORDERS_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.asynccontextmanager
async def running(
    argv: list[str], env: dict[str, str], log: Path, cwd: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start argv in its own process group; yield it; always stop it (SIGTERM to the group, then SIGKILL)."""
    handle = log.open("wb")
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=handle, stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        handle.close()


async def run_command(argv: list[str], env: dict[str, str], cwd: Path, limit_s: float = START_TIMEOUT) -> str:
    """Run a command to completion (bounded); return its stdout, or raise with its output."""
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=limit_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise RuntimeError(f"{' '.join(argv)} took more than {limit_s:.0f} s") from None
    finally:
        if proc.returncode is None:  # cancelled (Ctrl-C): do not leave it behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{err.decode(errors='replace')[-2000:]}")
    return out.decode()


async def wait_ready(
    proc: asyncio.subprocess.Process, log: Path, probe: Callable[[], Awaitable[httpx.Response]]
) -> None:
    """Poll `probe` until it answers 200; fail early, with the log, if the server exits."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) before it answered; its log:\n{tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if (await probe()).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT:.0f} s; its log:\n{tail(log)}")


async def create_key(env: dict[str, str], cwd: Path) -> str:
    """A staff API key named ACTOR, from `orders-service keys create` (the last line of its output)."""
    out = await run_command([cli_path(), "keys", "create", "--name", ACTOR, "--role", "staff"], env, cwd)
    return out.strip().splitlines()[-1].strip()
