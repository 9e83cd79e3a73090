"""Bearer API-key authentication for /api (except the public customer API) and role guards."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy.ext.asyncio import async_sessionmaker

from orders_service.auth.services import Role, find_active
from orders_service.domain.model import Actor, ActorKind

CACHE_SECONDS = 5.0  # a revoked key stops working within this many seconds
# In a cached answer's last second, one request looks the key up again while the others keep the cached answer:
# under load the answer never expires, and the requests in flight at its expiry do not each look it up at once.
REFRESH_S = 1.0
clock: Callable[[], float] = time.monotonic  # replaced by tests
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="orders-service"'}


class ApiKeyAuthentication(AbstractAuthenticationMiddleware):
    """Sets `request.user` to the staff Actor and `request.auth` to its Role."""

    _cache: dict[str, tuple[float, Actor, Role]] = {}  # noqa: RUF012  (shared by design: per process)
    _refreshing: set[str] = set()  # noqa: RUF012  keys a request is looking up again (same)

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise NotAuthorizedException("send Authorization: Bearer <API key>", headers=_CHALLENGE)
        key = key.strip()
        cached, now = self._cache.get(key), clock()
        if cached is not None and cached[0] > now and (cached[0] - now > REFRESH_S or key in self._refreshing):
            return AuthenticationResult(user=cached[1], auth=cached[2])
        sessionmaker: async_sessionmaker[Any] = connection.app.state.sessionmaker
        self._refreshing.add(key)
        try:
            async with sessionmaker() as session:
                row = await find_active(session, key)
        finally:
            self._refreshing.discard(key)
        if row is None:
            self._cache.pop(key, None)
            raise NotAuthorizedException("the API key is unknown or revoked", headers=_CHALLENGE)
        actor, role = Actor(kind=ActorKind.STAFF, id=row.name), Role(row.role)
        self._cache[key] = (clock() + CACHE_SECONDS, actor, role)
        return AuthenticationResult(user=actor, auth=role)


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    # The middleware lets OPTIONS through without a key (it only lists the methods), so `auth` may not be set.
    if connection.scope.get("method") == "OPTIONS":
        return
    if connection.auth != Role.ADMIN:
        raise PermissionDeniedException("this needs an admin API key")
