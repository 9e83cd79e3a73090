"""Real processes for tests: `orders-service` commands started, killed and stopped, and a wait for them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], within_s: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + within_s
    while True:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within_s} s")
        time.sleep(0.2)


class Processes:
    """`orders-service` commands sharing one environment; each logs to <folder>/<name>.log."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> None:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115  (closed with the process)
        self.procs[name] = subprocess.Popen(
            [str(BIN / "orders-service"), *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)  # the process and its pool children, with no chance to clean up
        proc.wait(10)

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def tails(self, names: tuple[str, ...], chars: int = 3000) -> str:
        out = []
        for name in names:
            log = self.folder / f"{name}.log"
            if log.exists():
                out.append(f"--- {name}.log (tail)\n" + log.read_text(errors="replace")[-chars:])
        return "\n".join(out)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ORDERS_ setting (the caller's decide), plus `extra`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_") and k != "DATABASE_URL"}
    return {**kept, **extra}
