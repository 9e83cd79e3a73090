"""HTTP: API keys, for admins."""

from __future__ import annotations

import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from orders_service.auth import services
from orders_service.auth.middleware import admin_only
from orders_service.db.models import ApiKey
from orders_service.domain.model import ONE_LINE
from orders_service.infra.deps import DbSession


class KeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ONE_LINE)]
    role: services.Role = services.Role.STAFF


class KeyOut(msgspec.Struct):
    id: UUID
    name: str
    role: str
    prefix: str
    created_at: datetime.datetime
    revoked_at: datetime.datetime | None
    key: str | None = None  # only in the answer to the request that created it


def _out(row: ApiKey, key: str | None = None) -> KeyOut:
    return KeyOut(
        id=row.id,
        name=row.name,
        role=row.role,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        key=key,
    )


class KeyController(Controller):
    path = "/api/keys"
    tags = ["API keys"]  # noqa: RUF012
    guards = [admin_only]  # noqa: RUF012

    @post("/", summary="Create an API key (admin); the key is in this answer only")
    async def create_key(self, db_session: DbSession, data: JSONBody[KeyIn]) -> KeyOut:
        row, key = await services.create_key(db_session, data.name, data.role)
        return _out(row, key)

    @get("/", summary="List API keys (admin)")
    async def list_keys(self, db_session: DbSession) -> list[KeyOut]:
        return [_out(row) for row in await services.list_keys(db_session)]

    @delete("/{key_id:uuid}", status_code=200, summary="Revoke an API key (admin)")
    async def revoke_key(self, db_session: DbSession, key_id: FromPath[UUID]) -> KeyOut:
        return _out(await services.revoke_key(db_session, key_id))
