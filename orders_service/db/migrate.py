"""Apply the Alembic migrations shipped in the package (used by the CLI, `serve` and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from orders_service.infra.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database to `revision`; safe to run on every start (it does nothing when up to date)."""
    config = alembic_config(settings)
    config.attributes["settings"] = settings
    command.upgrade(config, revision)
