"""The bench's load balancer: round-robin, skips a backend that refuses, never replays a request it forwarded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from scale.balancer import Balancer

from tests.integration.processes import free_port

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def backend(name: bytes, *, answer: bool = True) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server that reads one line and answers its name (or closes without a word); yields its port and the
    lines it received."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readline())
        if answer:
            writer.write(name + b"\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1]), received
    finally:
        server.close()
        await server.wait_closed()


async def ask(port: int, line: bytes = b"hello\n") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(line)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def balancing(ports: list[int]) -> AsyncIterator[Balancer]:
    balancer = Balancer(ports)
    await balancer.start()
    try:
        yield balancer
    finally:
        await balancer.close()


async def test_connections_take_turns() -> None:
    async with backend(b"a") as (a, _), backend(b"b") as (b, _), balancing([a, b]) as lb:
        answers = [await ask(lb.port) for _ in range(4)]
    assert answers == [b"a\n", b"b\n", b"a\n", b"b\n"]
    assert lb.report()["backends"] == {str(a): {"served": 2, "failed_over": 0, "broken": 0},
                                       str(b): {"served": 2, "failed_over": 0, "broken": 0}}  # fmt: skip


async def test_a_backend_that_refuses_is_skipped() -> None:
    dead = free_port()  # nothing listens there: connects are refused, like a killed API process's port
    async with backend(b"b") as (b, received), balancing([dead, b]) as lb:
        answers = [await ask(lb.port, f"request {i}\n".encode()) for i in range(3)]
    assert answers == [b"b\n"] * 3
    assert received == [b"request 0\n", b"request 1\n", b"request 2\n"]  # each once
    assert lb.stats[dead].served == 0
    assert lb.stats[dead].failed_over == 2  # the turns that fell on it (the 1st and the 3rd) went on to b
    assert lb.stats[b].served == 3


async def test_a_request_forwarded_to_a_backend_that_dies_is_not_replayed() -> None:
    async with backend(b"a", answer=False) as (a, got_a), backend(b"b") as (b, got_b), balancing([a, b]) as lb:
        first = await ask(lb.port, b"POST /api/orders\n")
    assert first == b""  # the client sees the connection close without an answer
    assert got_a == [b"POST /api/orders\n"]
    assert got_b == []  # not sent again elsewhere: it may have been applied
    assert (lb.stats[a].served, lb.stats[a].broken, lb.stats[b].served) == (1, 1, 0)


async def test_no_backend_at_all_closes_the_connection() -> None:
    dead = [free_port(), free_port()]
    async with balancing(dead) as lb:
        assert await ask(lb.port) == b""
    assert lb.unserved == 1
    assert [lb.stats[p].failed_over for p in dead] == [1, 1]
