"""Both external adapters bound a call as a whole, and the calls in flight to one courier (couriers/limits.py).

httpx's timeouts bound each read, not a whole answer: a server that trickles its answer in, a byte at a time,
kept a call (and, before the relay's pump, the whole relay) going for as long as it liked (issue 16, item 1).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import uvicorn

from couriers.base import TransientCourierError
from couriers.ghn import GhnCourier
from couriers.ghtk import GhtkCourier
from couriers.limits import CallLimit
from tests.contract import test_ghn, test_ghtk

pytestmark = pytest.mark.anyio
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Trickle:
    """An ASGI app that answers at once, then sends its body a byte every 0.2 s for `seconds` (or until
    released, when the test ends)."""

    def __init__(self, seconds: float = 20.0) -> None:
        self.seconds, self.requests = seconds, 0
        self.released = asyncio.Event()
        self.hold = False  # True: answer nothing at all until released

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.requests += 1
        if self.hold:
            await self.released.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        for _ in range(int(self.seconds / 0.2)):
            if self.released.is_set():  # the test is over
                break
            await send({"type": "http.response.body", "body": b" ", "more_body": True})
            await asyncio.sleep(0.2)
        await send({"type": "http.response.body", "body": b"{}"})


@contextlib.asynccontextmanager
async def serve(app: Trickle) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        app.released.set()
        server.should_exit = True
        await task


def adapter(
    courier: str, base: str, client: httpx.AsyncClient, limit: CallLimit | None = None, timeout_s: float = 1.0
) -> Any:
    if courier == "ghn":
        return GhnCourier(test_ghn.config(base_url=base, timeout_s=timeout_s), client, limit)
    return GhtkCourier(test_ghtk.config(base_url=base, timeout_s=timeout_s), client, limit)


async def one_call(courier: Any) -> object:
    if isinstance(courier, GhnCourier):
        return await courier.update_cod("GHN-1", 100_000)
    return await courier.detail("S1.A1.1")


@pytest.mark.parametrize("courier", ["ghn", "ghtk"])
async def test_an_answer_that_trickles_in_times_out_as_a_whole(courier: str) -> None:
    app = Trickle()
    async with serve(app) as base, httpx.AsyncClient() as client:
        with pytest.raises(TransientCourierError, match="timed out"):
            await one_call(adapter(courier, base, client))
    assert app.requests == 1


@pytest.mark.parametrize("courier", ["ghn", "ghtk"])
async def test_no_more_calls_in_flight_than_the_limit(courier: str) -> None:
    app = Trickle()
    app.hold = True
    limit = CallLimit(courier.upper(), max_in_flight=2)
    async with serve(app) as base, httpx.AsyncClient() as client:
        # Two adapters for one courier (an account replaced while calls run) share the registry's limit.
        first, second = adapter(courier, base, client, limit, 30.0), adapter(courier, base, client, limit, 30.0)
        held = [asyncio.create_task(one_call(c)) for c in (first, second)]
        await eventually(lambda: app.requests == 2)
        with pytest.raises(TransientCourierError, match="2 calls already under way") as refused:
            await one_call(adapter(courier, base, client, limit, 0.5))
        assert refused.value.code == "in_flight_limit"
        assert app.requests == 2 and limit.in_flight == 2  # the third never reached the courier
        app.released.set()
        outcomes = await asyncio.gather(*held, return_exceptions=True)
    assert all(isinstance(o, TransientCourierError) for o in outcomes)  # the test app's answer is no envelope
    assert limit.in_flight == 0


async def eventually(check: Callable[[], bool]) -> None:
    while not check():  # noqa: ASYNC110 - a plain counter
        await asyncio.sleep(0.01)
