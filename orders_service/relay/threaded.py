"""The embedded relay on a thread of its own: its own event loop and its own database connections.

In the API's event loop the relay's passes queued behind every request's callbacks: under load it made little
progress and the courier fell seconds behind (and a busy relay slowed the requests down in turn). On its own
thread it gets its turns of the interpreter whatever the API is doing, and the API its own; on SQLite both still
take turns at the one writer (db/engine.WriterQueue is shared by the engines on one file, across threads).

What belongs to the API's loop stays there: courier adapters and message providers hold connection pools (and
the embedded sandbox courier is served by the API itself), so the relay's calls to them are run on the API's
loop and awaited from the relay's (`OnLoop`). A deadline or a cancellation on the relay's side cancels the call
on the API's side too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import threading
from collections import ChainMap
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy.ext.asyncio import async_sessionmaker

from couriers.base import Courier
from notifications.policy import Channel
from notifications.providers import Provider
from orders_service.db.engine import create_engine
from orders_service.infra.outbox import on_committed
from orders_service.infra.runtime import Runtime
from orders_service.infra.settings import Settings
from orders_service.relay.core import Handler
from orders_service.relay.embedded import EmbeddedRelay
from orders_service.relay.handlers import build_handlers
from orders_service.shipping.registry import CourierRegistry

log = logging.getLogger(__name__)
START_S = 30.0  # how long the API waits for the relay's thread to be running


class OnLoop:
    """`target` seen from another event loop: its coroutine methods run on `loop`, its other attributes are
    read as they are."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target, self._loop = target, loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not inspect.iscoroutinefunction(value):
            return value

        async def call(*args: Any, **kwargs: Any) -> Any:
            future = asyncio.run_coroutine_threadsafe(value(*args, **kwargs), self._loop)
            return await asyncio.wrap_future(future)  # cancelled here: cancelled there

        return call


class ForwardedCouriers:
    """The API's courier registry, as the relay's thread uses it: each adapter's calls run on the API's loop.
    Adapters replaced meanwhile (an admin saved other account details) are found at each `get`."""

    def __init__(self, registry: CourierRegistry, loop: asyncio.AbstractEventLoop) -> None:
        self._registry, self._loop = registry, loop

    def get(self, name: str) -> Courier:
        return cast(Courier, OnLoop(self._registry.get(name), self._loop))


class ThreadedRelay:
    """The embedded relay (relay/embedded.py, unchanged) run on its own thread, started and stopped by the API."""

    def __init__(
        self,
        settings: Settings,
        couriers: CourierRegistry,
        providers: Mapping[Channel, Provider],
        info: dict[str, Any],
        fallback: dict[str, Handler] | None = None,
    ) -> None:
        self.settings, self.couriers, self.providers, self.info = settings, couriers, providers, info
        # Topics the thread's own table lacks are looked up here, as they are when called: handlers a test adds
        # to the runtime's table after start are the relay's too.
        self.fallback: dict[str, Handler] = fallback if fallback is not None else {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._relay: EmbeddedRelay | None = None
        self._stop: asyncio.Event | None = None
        self._ended: concurrent.futures.Future[None] = concurrent.futures.Future()

    @property
    def restarts(self) -> int:
        return self._relay.restarts if self._relay is not None else 0

    def wake(self) -> None:
        """Something was committed to the outbox (on any thread): the relay looks now."""
        loop, relay = self._loop, self._relay
        if loop is not None and relay is not None:
            with contextlib.suppress(RuntimeError):  # its loop has just closed: nothing left to wake
                loop.call_soon_threadsafe(relay.wake)

    async def start(self) -> None:
        api_loop = asyncio.get_running_loop()
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._ended = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._main, args=(api_loop, started), name="outbox-relay", daemon=True)
        self._thread.start()
        await asyncio.wait_for(asyncio.wrap_future(started), timeout=START_S)

    async def stop(self) -> None:
        """Let the pass under way finish, as the in-loop relay does, then end the thread."""
        loop, stop, thread = self._loop, self._stop, self._thread
        if thread is None:
            return
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        # Awaited, not joined: the relay's calls to couriers run on this loop, which keeps turning meanwhile.
        await asyncio.wrap_future(self._ended)
        thread.join()
        self._thread = None

    def _main(self, api_loop: asyncio.AbstractEventLoop, started: concurrent.futures.Future[None]) -> None:
        try:
            asyncio.run(self._serve(api_loop, started))
        except BaseException as error:  # told to the API's start, or logged
            if not started.done():
                started.set_exception(error)
            else:
                log.exception("the outbox relay's thread ended")
        finally:
            self._ended.set_result(None)

    async def _serve(self, api_loop: asyncio.AbstractEventLoop, started: concurrent.futures.Future[None]) -> None:
        settings = self.settings
        # Its own pool, sized for its handlers; the API's stays the API's.
        size = settings.relay_concurrency + 2
        engine = create_engine(settings, pool_size=size, max_overflow=size)
        try:
            db = async_sessionmaker(engine, expire_on_commit=False, info=self.info)
            providers = {channel: cast(Provider, OnLoop(p, api_loop)) for channel, p in self.providers.items()}
            handlers = build_handlers(
                db,
                cast(CourierRegistry, ForwardedCouriers(self.couriers, api_loop)),
                settings.sync_lease_s,
                providers,
                settings.lease_renew_s,
            )
            relay = EmbeddedRelay.from_settings(db, ChainMap(handlers, self.fallback), settings)
            self._stop = asyncio.Event()
            await relay.start()
            self._relay, self._loop = relay, asyncio.get_running_loop()
            on_committed(engine, relay.wake)  # what its own handlers queue (a message after an amendment)
            started.set_result(None)
            try:
                await self._stop.wait()
            finally:
                await relay.stop()
        finally:
            self._loop = None
            await engine.dispose()


def embedded_relay(settings: Settings, runtime: Runtime) -> EmbeddedRelay | ThreadedRelay:
    """The relay `serve` runs: on its own thread (ORDERS_RELAY_THREAD=on, the default), or in the API's loop."""
    if settings.relay_thread:
        return ThreadedRelay(settings, runtime.couriers, runtime.providers, runtime.info, runtime.handlers)
    return EmbeddedRelay.from_settings(runtime.db, runtime.handlers, settings)
