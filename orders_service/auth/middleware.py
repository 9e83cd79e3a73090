"""Bearer API-key authentication for /api (except the public customer API) and role guards."""

from __future__ import annotations

import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy.ext.asyncio import async_sessionmaker

from orders_service.auth.services import Role, find_active
from orders_service.domain.model import Actor, ActorKind

CACHE_SECONDS = 5.0  # a revoked key stops working within this many seconds
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="orders-service"'}


class ApiKeyAuthentication(AbstractAuthenticationMiddleware):
    """Sets `request.user` to the staff Actor and `request.auth` to its Role."""

    _cache: dict[str, tuple[float, Actor, Role]] = {}  # noqa: RUF012  (shared by design: per process)

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise NotAuthorizedException("send Authorization: Bearer <API key>", headers=_CHALLENGE)
        key = key.strip()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return AuthenticationResult(user=cached[1], auth=cached[2])
        sessionmaker: async_sessionmaker[Any] = connection.app.state.sessionmaker
        async with sessionmaker() as session:
            row = await find_active(session, key)
        if row is None:
            self._cache.pop(key, None)
            raise NotAuthorizedException("the API key is unknown or revoked", headers=_CHALLENGE)
        actor, role = Actor(kind=ActorKind.STAFF, id=row.name), Role(row.role)
        self._cache[key] = (time.monotonic() + CACHE_SECONDS, actor, role)
        return AuthenticationResult(user=actor, auth=role)


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    # The middleware lets OPTIONS through without a key (it only lists the methods), so `auth` may not be set.
    if connection.scope.get("method") == "OPTIONS":
        return
    if connection.auth != Role.ADMIN:
        raise PermissionDeniedException("this needs an admin API key")
