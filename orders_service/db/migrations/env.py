"""Alembic environment: runs the migrations on the engine the service itself uses."""

from __future__ import annotations

import asyncio
from typing import Any

from advanced_alchemy.base import metadata_registry
from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

import orders_service.db.models  # noqa: F401  (registers the tables on the metadata)
from orders_service.db.engine import create_engine

config = context.config


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=metadata_registry.get(None),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=False,  # SQLite reports GUID columns as NUMERIC: type diffs there are noise
        user_module_prefix="sa.",
        **kwargs,
    )


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(config.attributes["settings"], poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
