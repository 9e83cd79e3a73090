"""Settings read once from the environment, with the embedded defaults."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    # FULL keeps every acknowledged amendment across a power loss; NORMAL is faster but may not.
    sqlite_synchronous: str = "FULL"
    sqlite_busy_timeout_ms: int = 5000
    warehouse_province: int = 79
    public_base_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("ORDERS_DATA_DIR", "data")).resolve()
        database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'orders.db'}"
        database_url = normalise_database_url(database_url)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            host=env.get("ORDERS_HOST", "127.0.0.1"),
            port=int(env.get("ORDERS_PORT", "8000")),
            sqlite_synchronous=env.get("ORDERS_SQLITE_SYNCHRONOUS", "FULL").upper(),
            warehouse_province=int(env.get("ORDERS_WAREHOUSE_PROVINCE", "79")),
            public_base_url=env.get("ORDERS_PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def normalise_database_url(url: str) -> str:
    """Accept the URLs operators usually have (postgres://, postgresql://) and pick the async driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url
