"""Sliding-window rate limits for edit links, per token and per client address.

Embedded (one API process) counts in memory. At scale several API processes must share one count, so the
windows live in Redis, which that mode already runs as Celery's broker: a sorted set of request times per key,
trimmed and counted in one MULTI/EXEC, so concurrent processes cannot both take the last slot unnoticed.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler

from orders_service.links.rules import token_hash
from orders_service.settings import Settings

log = logging.getLogger(__name__)
_MAX_MEMORY_KEYS = 100_000  # beyond this, windows that hold nothing recent are dropped


class Window(Protocol):
    async def hit(self, key: str, limit: int, window_s: float) -> float:
        """Count a request under `key`: 0 if it is within `limit` per `window_s`, else seconds until it would be."""
        ...

    async def aclose(self) -> None: ...


class MemoryWindow:
    """The times of the last `limit` accepted requests per key, in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.hits: dict[str, deque[float]] = {}

    async def hit(self, key: str, limit: int, window_s: float) -> float:
        now = self.clock()
        times = self.hits.get(key)
        if times is None:
            if len(self.hits) >= _MAX_MEMORY_KEYS:
                self._forget(now, window_s)
            times = self.hits[key] = deque(maxlen=limit)
        while times and times[0] <= now - window_s:
            times.popleft()
        if len(times) >= limit:
            return times[0] + window_s - now
        times.append(now)
        return 0.0

    def _forget(self, now: float, window_s: float) -> None:
        for key in [k for k, t in self.hits.items() if not t or t[-1] <= now - window_s]:
            del self.hits[key]

    async def aclose(self) -> None:
        self.hits.clear()


class RedisWindow:
    """The same window in Redis, shared by every API process; if Redis is unreachable the request goes on."""

    def __init__(self, url: str, prefix: str) -> None:
        from redis import asyncio as redis

        self.client: Any = redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.prefix = prefix

    async def hit(self, key: str, limit: int, window_s: float) -> float:
        from redis.exceptions import RedisError

        name, now = f"{self.prefix}{key}", time.time()
        member = f"{now:.6f}:{secrets.token_hex(4)}"
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(name, 0, now - window_s)
                pipe.zadd(name, {member: now})
                pipe.zcard(name)
                pipe.zrange(name, 0, 0, withscores=True)
                pipe.pexpire(name, math.ceil(window_s * 1000))
                _, _, count, oldest, _ = await pipe.execute()
            if count <= limit:
                return 0.0
            await self.client.zrem(name, member)  # refused requests do not hold a slot
            return max(0.001, float(oldest[0][1]) + window_s - now)
        except RedisError as error:
            # The limit is a second line of defence (tokens are 256-bit); the customer's page is the first duty.
            log.warning("rate limit not applied, Redis unavailable: %s", error)
            return 0.0

    async def aclose(self) -> None:
        await self.client.aclose()


class LinkLimiter:
    """Refuses with 429 and Retry-After a client address, or a token, past its limit."""

    def __init__(self, window: Window, token_limit: int, client_limit: int, window_s: float) -> None:
        self.window, self.token_limit, self.client_limit, self.window_s = window, token_limit, client_limit, window_s

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkLimiter:
        window: Window = (
            RedisWindow(settings.broker_url, f"{settings.celery_queue}:link-rate:")
            if settings.rate_limit_store == "redis"
            else MemoryWindow()
        )
        return cls(window, settings.link_token_limit, settings.link_client_limit, settings.link_rate_window_s)

    async def check(self, client: str, token: str) -> None:
        # The client first: guessing tokens means new tokens each time, so only this limit stops it.
        for key, limit in (
            (f"client:{client}", self.client_limit),
            (f"token:{token_hash(token)[:32]}", self.token_limit),
        ):
            wait = await self.window.hit(key, limit, self.window_s)
            if wait > 0:
                raise TooManyRequestsException(
                    "too many requests for this link; try again shortly",
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )


async def link_rate_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    limiter: LinkLimiter = connection.app.state.link_limiter
    client = connection.client.host if connection.client else "unknown"
    await limiter.check(client, str(connection.path_params.get("token", "")))
