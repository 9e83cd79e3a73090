"""The settings of one process, read once from the environment as `registry` declares them."""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

import msgspec

from orders_service.cod.formats import parse_columns
from orders_service.infra.settings.declared import Env
from orders_service.infra.settings.reading import courier_settings, non_negative, notify_config, number, positive
from orders_service.infra.settings.registry import read
from orders_service.loyalty.tiers import DEFAULT_TIERS, parse_tiers
from orders_service.messaging.config import NotifyConfig


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """The declared variables' values (ORDERS_HOST -> host; courier and message settings gathered in `couriers`
    and `notify`). Meanings and defaults are declared in `catalogue` and `partners`; a test holds the defaults
    here to the declared ones."""

    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    sqlite_synchronous: str = "FULL"
    sqlite_busy_timeout_ms: int = 5000  # not a setting: how long SQLite waits for a writer's lock
    warehouse_province: int = 79
    warehouse_ward: int = 26743
    shop_name: str = "Cửa hàng"
    shop_phone: str = "+842838221234"
    shop_address: str = "1 Lê Lợi"
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    relay: str = "embedded"
    relay_backoff_s: float = 1.0
    relay_lease_s: float = 30.0
    sync_lease_s: float = 30.0
    reconcile_s: float = 600.0
    # The chain that keeps one slow courier from holding the relay is checked at start: see check_timing.
    courier_timeout_s: float = 8.0
    lease_renew_s: float = 10.0
    relay_deadline_s: float = 60.0
    relay_watchdog_s: float = 120.0
    courier_max_in_flight: int = 4
    relay_concurrency: int = 8
    relay_thread: bool = False
    relay_max_attempts: int = 15
    broker_url: str = "redis://127.0.0.1:6379/0"
    celery_queue: str = "orders-service"
    split_fee: str = "quote"
    ship_rule: str = "cheapest"
    quote_timeout_s: float = 5.0
    edit_window_minutes: int = 0
    return_window_days: int = 7
    tiers: str = DEFAULT_TIERS
    vnd_per_point: int = 10_000
    tier_downgrade: str = "never"
    tier_review_days: int = 365
    vnd_per_redeemed_point: int = 1_000
    points_expire_days: int = 365
    log_format: str = "text"
    log_level: str = "INFO"
    # Per courier, the ORDERS_<COURIER>_<KEY> variables set (e.g. ORDERS_GHN_TOKEN -> couriers["ghn"]["token"]).
    couriers: dict[str, dict[str, str]] = msgspec.field(default_factory=dict)
    notify: NotifyConfig = msgspec.field(default_factory=NotifyConfig)
    link_ttl_hours: int = 48
    cod_statement_days: int = 7
    # Statement column titles added per courier and field (ORDERS_COD_COLUMNS, read by orders_service.cod.formats).
    cod_columns: dict[str, dict[str, tuple[str, ...]]] = msgspec.field(default_factory=dict)
    link_token_limit: int = 60
    link_client_limit: int = 120
    link_rate_window_s: int = 60
    rate_limit_store: str = "memory"
    sandbox: bool = True
    trusted_proxies: tuple[str, ...] = ()
    multiproc_dir: str | None = None  # PROMETHEUS_MULTIPROC_DIR, which prometheus_client also reads itself

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from `env` (default: the process's environment), each variable as declared."""
        e = read(os.environ if env is None else env)
        data_dir = Path(e.get("ORDERS_DATA_DIR")).resolve()
        database_url = normalise_database_url(e.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'orders.db'}")
        relay = e.choice("ORDERS_RELAY")
        host, port = e.get("ORDERS_HOST"), number(e, "ORDERS_PORT", int)
        public_base_url = e.get("ORDERS_PUBLIC_BASE_URL").strip().rstrip("/") or listening_url(host, port)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            host=host,
            port=port,
            sqlite_synchronous=e.get("ORDERS_SQLITE_SYNCHRONOUS").upper(),
            warehouse_province=number(e, "ORDERS_WAREHOUSE_PROVINCE", int),
            warehouse_ward=number(e, "ORDERS_WAREHOUSE_WARD", int),
            shop_name=e.get("ORDERS_SHOP_NAME"),
            shop_phone=e.get("ORDERS_SHOP_PHONE"),
            shop_address=e.get("ORDERS_SHOP_ADDRESS"),
            public_base_url=public_base_url,
            secret_key=_secret_key(e),
            relay=relay,
            relay_backoff_s=number(e, "ORDERS_RELAY_BACKOFF_S", float),
            relay_lease_s=number(e, "ORDERS_RELAY_LEASE_S", float),
            sync_lease_s=number(e, "ORDERS_SYNC_LEASE_S", float),
            reconcile_s=_reconcile_s(e),
            courier_timeout_s=number(e, "ORDERS_COURIER_TIMEOUT_S", float),
            lease_renew_s=number(e, "ORDERS_LEASE_RENEW_S", float),
            relay_deadline_s=number(e, "ORDERS_RELAY_DEADLINE_S", float),
            relay_watchdog_s=number(e, "ORDERS_RELAY_WATCHDOG_S", float),
            courier_max_in_flight=positive(e, "ORDERS_COURIER_MAX_IN_FLIGHT"),
            relay_concurrency=positive(e, "ORDERS_RELAY_CONCURRENCY"),
            relay_thread=e.choice("ORDERS_RELAY_THREAD") == "on",
            relay_max_attempts=positive(e, "ORDERS_RELAY_MAX_ATTEMPTS"),
            broker_url=e.get("ORDERS_BROKER_URL"),
            celery_queue=e.get("ORDERS_CELERY_QUEUE"),
            split_fee=e.choice("ORDERS_SPLIT_FEE"),
            ship_rule=e.choice("ORDERS_SHIP_RULE"),
            quote_timeout_s=_positive_seconds(e, "ORDERS_QUOTE_TIMEOUT_S"),
            edit_window_minutes=_window_minutes(e),
            return_window_days=non_negative(e, "ORDERS_RETURN_WINDOW_DAYS"),
            tiers=_tiers(e),
            vnd_per_point=positive(e, "ORDERS_VND_PER_POINT"),
            tier_downgrade=e.choice("ORDERS_TIER_DOWNGRADE"),
            tier_review_days=positive(e, "ORDERS_TIER_REVIEW_DAYS"),
            vnd_per_redeemed_point=positive(e, "ORDERS_VND_PER_REDEEMED_POINT"),
            points_expire_days=non_negative(e, "ORDERS_POINTS_EXPIRE_DAYS"),
            log_format=e.choice("ORDERS_LOG_FORMAT", _default_log_format()),
            log_level=e.choice("ORDERS_LOG_LEVEL").upper(),
            couriers=courier_settings(e),
            notify=msgspec.structs.replace(notify_config(e), public_base_url=public_base_url),
            link_ttl_hours=positive(e, "ORDERS_LINK_TTL_HOURS"),
            cod_statement_days=positive(e, "ORDERS_COD_STATEMENT_DAYS"),
            cod_columns=parse_columns(e.get("ORDERS_COD_COLUMNS")),
            link_token_limit=positive(e, "ORDERS_LINK_TOKEN_LIMIT"),
            link_client_limit=positive(e, "ORDERS_LINK_CLIENT_LIMIT"),
            link_rate_window_s=positive(e, "ORDERS_LINK_RATE_WINDOW_S"),
            rate_limit_store=e.choice("ORDERS_RATE_LIMIT_STORE", "redis" if relay == "celery" else "memory"),
            sandbox=e.choice("ORDERS_SANDBOX") == "on",
            trusted_proxies=_trusted_proxies(e),
            multiproc_dir=e.get("PROMETHEUS_MULTIPROC_DIR") or None,
        )

    def __post_init__(self) -> None:
        check_timing(self)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def courier_timeout(self, courier: str) -> float:
        """One call's whole time limit for `courier`: ORDERS_<COURIER>_TIMEOUT_S, else ORDERS_COURIER_TIMEOUT_S."""
        raw = self.couriers.get(courier, {}).get("timeout_s")
        try:
            return float(raw) if raw else self.courier_timeout_s
        except ValueError:
            raise ValueError(f"ORDERS_{courier.upper()}_TIMEOUT_S must be a number, not {raw!r}") from None


def check_timing(settings: Settings) -> None:
    """Refuse to start with timeouts that would let a hung courier call outlive the leases that guard it.

    A lease is renewed by a beat beside the call, and a call must end before that beat comes round: a call that
    outlasts it (the old 10 s timeout beside a 10 s renewal) races the renewal. Two renewals fit in a lease, so
    one missed renewal (a database hiccup) loses nothing. The handler deadline leaves room for one call at
    least, and the watchdog waits longer than a handler may take before it calls the relay wedged.
    """
    timeouts = {"ORDERS_COURIER_TIMEOUT_S": settings.courier_timeout_s}
    for courier in settings.couriers:
        timeouts[f"ORDERS_{courier.upper()}_TIMEOUT_S"] = settings.courier_timeout(courier)
    renew, deadline = settings.lease_renew_s, settings.relay_deadline_s
    problems = [f"{n} ({t:g} s) must be above 0 and below ORDERS_LEASE_RENEW_S ({renew:g} s)"
                for n, t in timeouts.items() if not 0 < t < renew]  # fmt: skip
    for name, lease in (
        ("ORDERS_RELAY_LEASE_S", settings.relay_lease_s),
        ("ORDERS_SYNC_LEASE_S", settings.sync_lease_s),
    ):
        if not 0 < 2 * renew <= lease:
            problems.append(f"{name} ({lease:g} s) must be at least twice ORDERS_LEASE_RENEW_S ({renew:g} s)")
    if deadline <= max(timeouts.values()):
        problems.append(f"ORDERS_RELAY_DEADLINE_S ({deadline:g} s) must be above every courier timeout")
    if settings.relay_watchdog_s <= deadline:
        problems.append(
            f"ORDERS_RELAY_WATCHDOG_S ({settings.relay_watchdog_s:g} s) must be above ORDERS_RELAY_DEADLINE_S"
        )
    if problems:
        raise ValueError("; ".join(problems))


def listen_at(host: str, port: int) -> None:
    """Tell the app processes `serve` starts where they listen (--host/--port): they read the environment, and
    their links follow it unless ORDERS_PUBLIC_BASE_URL is set."""
    os.environ["ORDERS_HOST"], os.environ["ORDERS_PORT"] = host, str(port)


def listening_url(host: str, port: int) -> str:
    """The URL of the address `serve` listens on: the default of ORDERS_PUBLIC_BASE_URL.

    A wildcard (0.0.0.0, ::) is every interface of this machine: its loopback is the one address sure to be
    among them. Customers' phones reach a shop through the address it publishes: set ORDERS_PUBLIC_BASE_URL.
    """
    host = host.strip() or "127.0.0.1"
    if host in ("0.0.0.0", "*"):
        host = "127.0.0.1"
    elif host in ("::", "[::]"):
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


MIN_SECRET = 32


def _secret_key(env: Env) -> str:
    value = env.get("ORDERS_SECRET_KEY").strip()
    if value and len(value) < MIN_SECRET:
        raise ValueError(f"ORDERS_SECRET_KEY must be at least {MIN_SECRET} characters (or unset: one is made)")
    return value


def secret_key(settings: Settings) -> str:
    """ORDERS_SECRET_KEY, else the key made on first start and kept in data_dir/secret_key (mode 600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    made = secrets.token_urlsafe(48)
    draft = path.with_name(f"secret_key.{os.getpid()}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(made)
    try:
        os.link(draft, path)  # whole or not at all; fails if another process made it first
    except FileExistsError:
        made = path.read_text().strip()
    finally:
        draft.unlink()
    return made


def _reconcile_s(env: Env) -> float:
    value = number(env, "ORDERS_RECONCILE_S", float)
    if value < 0:
        raise ValueError(f"ORDERS_RECONCILE_S must be 0 (off) or a number of seconds, not {value}")
    return value


def _tiers(env: Env) -> str:
    raw = env.get("ORDERS_TIERS").strip()
    parse_tiers(raw)  # raises a one-line ValueError naming ORDERS_TIERS
    return raw


def _trusted_proxies(env: Env) -> tuple[str, ...]:
    raw = env.get("ORDERS_TRUSTED_PROXIES")
    found = []
    for item in (part.strip() for part in raw.split(",") if part.strip()):
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(f"ORDERS_TRUSTED_PROXIES must list IP addresses or CIDRs, not {item!r}") from None
    return tuple(found)


def _default_log_format() -> str:
    """JSON where a collector reads the logs (not a terminal), text where a person does."""
    return "text" if sys.stderr.isatty() else "json"


def normalise_database_url(url: str) -> str:
    """Accept the URLs operators usually have (postgres://, postgresql://) and pick the async driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def _positive_seconds(env: Env, name: str) -> float:
    value = number(env, name, float)
    if not 0 < value <= 3600:  # nan fails both comparisons
        raise ValueError(f"{name} must be a number of seconds above 0 and at most 3600, not {value}")
    return value


def _window_minutes(env: Env) -> int:
    value = non_negative(env, "ORDERS_EDIT_WINDOW_MINUTES")
    if value > 7 * 24 * 60:
        raise ValueError(f"ORDERS_EDIT_WINDOW_MINUTES must be at most a week (10080), not {value}")
    return value
