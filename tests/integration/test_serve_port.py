"""`serve` on a port already in use: one clear line and exit status 2, before any work (no data folder, no database).

Both doors are tried: `orders-service serve` itself, and `./dev serve`, which must say it before installing anything.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.processes import BIN, clean_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port that something else listens on, for the length of the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "data"
    return subprocess.run(
        args,
        env=clean_env(ORDERS_DATA_DIR=str(data), **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_says_the_port_is_taken_and_does_nothing(taken_port: int, tmp_path: Path) -> None:
    done = _run([str(BIN / "orders-service"), "serve", "--port", str(taken_port)], tmp_path)
    assert done.returncode == 2, done
    assert done.stderr == (
        f"Error: port {taken_port} on 127.0.0.1 is already in use: stop what listens there, "
        "or pick another with --port N\n"
    )
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no data folder, no SQLite file, no secret key: nothing was migrated


def test_the_port_from_the_environment_is_checked_too(taken_port: int, tmp_path: Path) -> None:
    done = _run([str(BIN / "orders-service"), "serve"], tmp_path, ORDERS_PORT=str(taken_port))
    assert done.returncode == 2 and "already in use" in done.stderr and len(done.stderr.splitlines()) == 1, done
    assert list(tmp_path.iterdir()) == []


def test_dev_serve_says_it_before_installing_anything(taken_port: int, tmp_path: Path) -> None:
    # Its own venv and tools folders: were the check missing, ./dev would start installing there (and time out).
    venv, tools = tmp_path / "venv", tmp_path / "tools"
    done = _run(
        ["bash", str(ROOT / "dev"), "serve", "--port", str(taken_port)], tmp_path, VENV=str(venv), TOOLS=str(tools)
    )
    assert done.returncode == 2, done
    assert done.stderr.splitlines() == [
        f"Error: port {taken_port} on 127.0.0.1 is already in use: stop what listens there, "
        "or pick another with --port N"
    ]
    assert not venv.exists() and not tools.exists() and not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "abc"], "Invalid value for '--port': 'abc' is not a port: give a number from 1 to 65535"),
        (["--port", "70000"], "Invalid value for '--port': '70000' is not a port: give a number from 1 to 65535"),
        (["--host", "192.0.2.1"], "Error: cannot listen on 192.0.2.1 port "),  # TEST-NET-1: no address of ours
        (["--workers", "0"], "Invalid value for '--workers': 0 is not in the range 1<=x<=64"),
        (["--prot", "8000"], "No such option '--prot'"),
    ],
)
def test_wrong_arguments_are_named_and_nothing_starts(args: list[str], says: str, tmp_path: Path) -> None:
    done = _run([str(BIN / "orders-service"), "serve", *args], tmp_path)
    assert done.returncode == 2, done
    assert says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []
