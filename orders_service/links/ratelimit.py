"""Sliding-window rate limits for edit links, per token and per client address.

Embedded (one API process) counts in memory, keys kept in order of last use so that forgetting expired ones
costs each request a constant amount of work however many keys there are. At scale several API processes must
share one count, so the windows live in Redis, which that mode already runs as Celery's broker: a sorted set of
request times per key, trimmed and counted in one MULTI/EXEC, so concurrent processes cannot both take the last
slot unnoticed.

The client is the connecting peer, or whom a proxy listed in ORDERS_TRUSTED_PROXIES forwards for (ops.clients).
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Protocol

from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler

from orders_service.infra.settings import Settings
from orders_service.links.rules import token_hash
from orders_service.ops.clients import TrustedProxies

log = logging.getLogger(__name__)
_MAX_MEMORY_KEYS = 100_000  # beyond this, the least recently used key is forgotten


class Window(Protocol):
    async def hit(self, key: str, limit: int, window_s: float) -> float:
        """Count a request under `key`: 0 if it is within `limit` per `window_s`, else seconds until it would be."""
        ...

    async def aclose(self) -> None: ...


class MemoryWindow:
    """The times of the last `limit` accepted requests per key, in this process, least recently used key first.

    Each request drops the keys at the old end whose last accepted request is out of the window, then touches
    its own key: a key is dropped once for each time it was made, so the work per request is constant
    (amortised), never a scan of every key. At `max_keys` the least recently used key makes room.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int | None = None) -> None:
        self.clock, self.max_keys = clock, max_keys or _MAX_MEMORY_KEYS
        self.hits: OrderedDict[str, deque[float]] = OrderedDict()

    async def hit(self, key: str, limit: int, window_s: float) -> float:
        now = self.clock()
        self._expire(now - window_s)
        times = self.hits.get(key)
        if times is None:
            if len(self.hits) >= self.max_keys:
                self.hits.popitem(last=False)
            times = self.hits[key] = deque(maxlen=limit)
        else:
            self.hits.move_to_end(key)
        while times and times[0] <= now - window_s:
            times.popleft()
        if len(times) >= limit:
            return times[0] + window_s - now
        times.append(now)
        return 0.0

    def _expire(self, horizon: float) -> None:
        # A refused request moves its key to the end without a new time, so a key further on may be as stale as
        # one here: it is dropped when it reaches this end. Either way it holds nothing the window still counts.
        while self.hits:
            oldest = next(iter(self.hits.values()))
            if oldest and oldest[-1] > horizon:
                return
            self.hits.popitem(last=False)

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

    def __init__(
        self,
        window: Window,
        token_limit: int,
        client_limit: int,
        window_s: float,
        proxies: TrustedProxies | None = None,
    ) -> None:
        self.window, self.token_limit, self.client_limit, self.window_s = window, token_limit, client_limit, window_s
        self.proxies = proxies or TrustedProxies()  # whose X-Forwarded-For names the client: nobody's by default

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkLimiter:
        window: Window = (
            RedisWindow(settings.broker_url, f"{settings.celery_queue}:link-rate:")
            if settings.rate_limit_store == "redis"
            else MemoryWindow()
        )
        limits = (settings.link_token_limit, settings.link_client_limit, settings.link_rate_window_s)
        return cls(window, *limits, TrustedProxies(settings.trusted_proxies))

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
    await limiter.check(limiter.proxies.client(connection.scope), str(connection.path_params.get("token", "")))
