"""Settings read once from the environment, with the embedded defaults."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TypeVar

import msgspec

from orders_service.loyalty.tiers import DEFAULT_TIERS, DOWNGRADE_RULES, parse_tiers


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    # FULL keeps every acknowledged amendment across a power loss; NORMAL is faster but may not.
    sqlite_synchronous: str = "FULL"
    sqlite_busy_timeout_ms: int = 5000
    warehouse_province: int = 79
    warehouse_ward: int = 26743
    shop_name: str = "Cửa hàng"
    shop_phone: str = "+842838221234"
    shop_address: str = "1 Lê Lợi"
    public_base_url: str = "http://127.0.0.1:8000"
    # embedded: the outbox relay runs inside the API process; celery: workers and beat run it; off: nobody.
    relay: str = "embedded"
    relay_backoff_s: float = 1.0  # first retry after 0.5-1 s, doubling up to 10 minutes
    # How long a claimed message, or a shipment being synced, stays with a worker that may have died.
    relay_lease_s: float = 120.0
    sync_lease_s: float = 60.0
    broker_url: str = "redis://127.0.0.1:6379/0"
    celery_queue: str = "orders-service"
    # The shipping fee of each part of a split order: quote (its courier's quote for its own parcel, falling
    # back to the original's fee), same (the original's fee again) or shop (the shop pays the extra parcels).
    split_fee: str = "quote"
    # Loyalty: code:percent:min_spend:min_orders per tier, lowest first; how many VND earn a point; when a
    # customer whose spend fell (a return) loses her tier: never, at her review date, or immediately.
    tiers: str = DEFAULT_TIERS
    vnd_per_point: int = 10_000
    tier_downgrade: str = "never"
    tier_review_days: int = 365
    # A redeemed point takes this many VND off an order's COD; earned points expire after this many days (0 never).
    vnd_per_redeemed_point: int = 1_000
    points_expire_days: int = 365
    # json: one JSON object per line (request, order and task ids included), for collectors; text: for people.
    log_format: str = "text"
    log_level: str = "INFO"
    # Per courier, the ORDERS_<COURIER>_<KEY> variables (e.g. ORDERS_GHN_TOKEN -> couriers["ghn"]["token"]).
    couriers: dict[str, dict[str, str]] = msgspec.field(default_factory=dict)

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
            port=_number(env, "ORDERS_PORT", "8000", int),
            sqlite_synchronous=env.get("ORDERS_SQLITE_SYNCHRONOUS", "FULL").upper(),
            warehouse_province=_number(env, "ORDERS_WAREHOUSE_PROVINCE", "79", int),
            warehouse_ward=_number(env, "ORDERS_WAREHOUSE_WARD", "26743", int),
            shop_name=env.get("ORDERS_SHOP_NAME", "Cửa hàng"),
            shop_phone=env.get("ORDERS_SHOP_PHONE", "+842838221234"),
            shop_address=env.get("ORDERS_SHOP_ADDRESS", "1 Lê Lợi"),
            public_base_url=env.get("ORDERS_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            relay=env.get("ORDERS_RELAY", "embedded"),
            relay_backoff_s=_number(env, "ORDERS_RELAY_BACKOFF_S", "1.0", float),
            relay_lease_s=_number(env, "ORDERS_RELAY_LEASE_S", "120", float),
            sync_lease_s=_number(env, "ORDERS_SYNC_LEASE_S", "60", float),
            broker_url=env.get("ORDERS_BROKER_URL", "redis://127.0.0.1:6379/0"),
            celery_queue=env.get("ORDERS_CELERY_QUEUE", "orders-service"),
            split_fee=_choice(env, "ORDERS_SPLIT_FEE", "quote", SPLIT_FEE_POLICIES),
            tiers=_tiers(env),
            vnd_per_point=_positive(env, "ORDERS_VND_PER_POINT", "10000"),
            tier_downgrade=_choice(env, "ORDERS_TIER_DOWNGRADE", "never", DOWNGRADE_RULES),
            tier_review_days=_positive(env, "ORDERS_TIER_REVIEW_DAYS", "365"),
            vnd_per_redeemed_point=_positive(env, "ORDERS_VND_PER_REDEEMED_POINT", "1000"),
            points_expire_days=_non_negative(env, "ORDERS_POINTS_EXPIRE_DAYS", "365"),
            log_format=_choice(env, "ORDERS_LOG_FORMAT", _default_log_format(), LOG_FORMATS),
            log_level=_choice(env, "ORDERS_LOG_LEVEL", "info", LOG_LEVELS).upper(),
            couriers=_courier_settings(env),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


N = TypeVar("N", int, float)


def _number(env: dict[str, str], name: str, default: str, kind: type[N]) -> N:
    raw = env.get(name, default)
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None


def _positive(env: dict[str, str], name: str, default: str) -> int:
    value = _number(env, name, default, int)
    if value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value}")
    return value


def _non_negative(env: dict[str, str], name: str, default: str) -> int:
    value = _number(env, name, default, int)
    if value < 0:
        raise ValueError(f"{name} must be a whole number of at least 0, not {value}")
    return value


def _tiers(env: dict[str, str]) -> str:
    raw = env.get("ORDERS_TIERS", DEFAULT_TIERS).strip()
    parse_tiers(raw)  # raises a one-line ValueError naming ORDERS_TIERS
    return raw


SPLIT_FEE_POLICIES = ("quote", "same", "shop")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")


def _default_log_format() -> str:
    """JSON where a collector reads the logs (not a terminal), text where a person does."""
    return "text" if sys.stderr.isatty() else "json"


def _choice(env: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def normalise_database_url(url: str) -> str:
    """Accept the URLs operators usually have (postgres://, postgresql://) and pick the async driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def _courier_settings(env: dict[str, str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for courier in ("sandbox", "ghn", "ghtk"):
        prefix = f"ORDERS_{courier.upper()}_"
        values = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
        if values:
            found[courier] = values
    return found
