"""The migrations build exactly the schema the models describe, and go down and up again."""

from __future__ import annotations

from pathlib import Path

from advanced_alchemy.base import metadata_registry
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import orders_service.db.models  # noqa: F401  (registers the tables)
from orders_service.db.migrate import alembic_config, upgrade
from orders_service.infra.settings import Settings


def _diff(database: Path) -> list[object]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            return list(compare_metadata(context, metadata_registry.get(None)))
    finally:
        engine.dispose()


def test_migrations_match_the_models_and_downgrade_cleanly(tmp_path: Path) -> None:
    settings = Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path)})
    upgrade(settings)
    assert _diff(tmp_path / "orders.db") == []
    config = alembic_config(settings)
    config.attributes["settings"] = settings
    command.downgrade(config, "base")
    upgrade(settings)
    assert _diff(tmp_path / "orders.db") == []
