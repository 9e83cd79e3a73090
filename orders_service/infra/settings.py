"""Settings read once from the environment, with the embedded defaults."""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
import sys
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from notifications.templates import DEFAULT_LOCALE, LOCALES, Template
from orders_service.domain.errors import DomainError
from orders_service.domain.phones import normalise_phone
from orders_service.loyalty.tiers import DEFAULT_TIERS, DOWNGRADE_RULES, parse_tiers
from orders_service.messaging.config import NotifyConfig


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
    # Signs CSRF tokens (and anything else that must survive a restart); made once into data_dir when unset.
    secret_key: str = ""
    # embedded: the outbox relay runs inside the API process; celery: workers and beat run it; off: nobody.
    relay: str = "embedded"
    relay_backoff_s: float = 1.0  # first retry after 0.5-1 s, doubling up to 10 minutes
    # How long a claimed message, or a shipment being synced, stays with a worker that may have died. The
    # holder renews it every third of that while it works, so this bounds the wait after a crash, not a call.
    relay_lease_s: float = 30.0
    sync_lease_s: float = 30.0
    # Every this many seconds, read every parcel not yet final from its courier (a webhook may never come);
    # 0 turns it off. Both engines: the embedded one in the API process, Celery beat otherwise.
    reconcile_s: float = 600.0
    # The chain that keeps one slow courier from holding the relay (checked at start, see check_timing):
    # a courier call (ORDERS_<COURIER>_TIMEOUT_S, default courier_timeout_s) ends before the next lease renewal,
    # a renewal comes at least twice per lease, a handler ends within relay_deadline_s whatever it calls, and
    # the watchdog restarts a relay that made no progress for relay_watchdog_s while work was due.
    courier_timeout_s: float = 8.0
    lease_renew_s: float = 10.0
    relay_deadline_s: float = 60.0
    relay_watchdog_s: float = 120.0
    # Calls one process makes to one courier at once: a courier that hangs holds no more relay slots than this.
    courier_max_in_flight: int = 4
    relay_concurrency: int = 8
    # Attempts before a message that keeps failing is dead-lettered (kept for staff, no longer retried).
    relay_max_attempts: int = 15
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
    # Notifications: providers per channel, quiet hours, the marketing cap, staff recipients (see _notify).
    notify: NotifyConfig = msgspec.field(default_factory=NotifyConfig)
    # Customers' edit links: lifetime, and how many requests a link, or a client address, may make per window.
    link_ttl_hours: int = 48
    link_token_limit: int = 60
    link_client_limit: int = 120
    link_rate_window_s: int = 60
    # memory: counted in this process (one API process); redis: shared by every API process (at scale).
    rate_limit_store: str = "memory"
    # off: no sandbox courier at all (not mounted, not a courier to ship with); on: served at /sandbox-courier.
    sandbox: bool = True
    # Reverse proxies whose X-Forwarded-For names the client (IPs or CIDRs); none by default, so that a client
    # cannot pick the address its rate limit is counted under.
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("ORDERS_DATA_DIR", "data")).resolve()
        database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'orders.db'}"
        database_url = normalise_database_url(database_url)
        relay = env.get("ORDERS_RELAY", "embedded")
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
            secret_key=_secret_key(env),
            relay=relay,
            relay_backoff_s=_number(env, "ORDERS_RELAY_BACKOFF_S", "1.0", float),
            relay_lease_s=_number(env, "ORDERS_RELAY_LEASE_S", "30", float),
            sync_lease_s=_number(env, "ORDERS_SYNC_LEASE_S", "30", float),
            reconcile_s=_reconcile_s(env),
            courier_timeout_s=_number(env, "ORDERS_COURIER_TIMEOUT_S", "8", float),
            lease_renew_s=_number(env, "ORDERS_LEASE_RENEW_S", "10", float),
            relay_deadline_s=_number(env, "ORDERS_RELAY_DEADLINE_S", "60", float),
            relay_watchdog_s=_number(env, "ORDERS_RELAY_WATCHDOG_S", "120", float),
            courier_max_in_flight=_positive(env, "ORDERS_COURIER_MAX_IN_FLIGHT", "4"),
            relay_concurrency=_positive(env, "ORDERS_RELAY_CONCURRENCY", "8"),
            relay_max_attempts=_positive(env, "ORDERS_RELAY_MAX_ATTEMPTS", "15"),
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
            notify=_notify(env),
            link_ttl_hours=_positive(env, "ORDERS_LINK_TTL_HOURS", "48"),
            link_token_limit=_positive(env, "ORDERS_LINK_TOKEN_LIMIT", "60"),
            link_client_limit=_positive(env, "ORDERS_LINK_CLIENT_LIMIT", "120"),
            link_rate_window_s=_positive(env, "ORDERS_LINK_RATE_WINDOW_S", "60"),
            rate_limit_store=_choice(
                env, "ORDERS_RATE_LIMIT_STORE", "redis" if relay == "celery" else "memory", RATE_LIMIT_STORES
            ),
            sandbox=_choice(env, "ORDERS_SANDBOX", "on", ("on", "off")) == "on",
            trusted_proxies=_trusted_proxies(env),
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


N = TypeVar("N", int, float)
MIN_SECRET = 32


def _secret_key(env: dict[str, str]) -> str:
    value = env.get("ORDERS_SECRET_KEY", "").strip()
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


def _reconcile_s(env: dict[str, str]) -> float:
    value = _number(env, "ORDERS_RECONCILE_S", "600", float)
    if value < 0:
        raise ValueError(f"ORDERS_RECONCILE_S must be 0 (off) or a number of seconds, not {value}")
    return value


def _tiers(env: dict[str, str]) -> str:
    raw = env.get("ORDERS_TIERS", DEFAULT_TIERS).strip()
    parse_tiers(raw)  # raises a one-line ValueError naming ORDERS_TIERS
    return raw


def _trusted_proxies(env: dict[str, str]) -> tuple[str, ...]:
    raw = env.get("ORDERS_TRUSTED_PROXIES", "")
    found = []
    for item in (part.strip() for part in raw.split(",") if part.strip()):
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(f"ORDERS_TRUSTED_PROXIES must list IP addresses or CIDRs, not {item!r}") from None
    return tuple(found)


SPLIT_FEE_POLICIES = ("quote", "same", "shop")
RATE_LIMIT_STORES = ("memory", "redis")
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


PROVIDERS = {"sms": ("log", "gateway"), "zalo": ("log", "zns"), "email": ("log", "smtp")}
# What a real provider cannot work without: ORDERS_SMS_API_KEY, ORDERS_ZNS_ACCESS_TOKEN, ORDERS_SMTP_HOST, ...
REQUIRED = {
    "gateway": ("sms", ("api_key", "secret_key", "brandname")),
    "zns": ("zns", ("access_token",)),
    "smtp": ("smtp", ("host", "from")),
}


def _notify(env: dict[str, str]) -> NotifyConfig:
    providers = {ch: _choice(env, f"ORDERS_NOTIFY_{ch.upper()}", "log", allowed) for ch, allowed in PROVIDERS.items()}
    groups = {g: _prefixed(env, f"ORDERS_{g.upper()}_") for g in ("sms", "zns", "smtp")}
    for provider in providers.values():
        if provider in REQUIRED:
            group, keys = REQUIRED[provider]
            missing = [f"ORDERS_{group.upper()}_{k.upper()}" for k in keys if not groups[group].get(k)]
            if missing:
                raise ValueError(f"the {provider} provider needs {', '.join(missing)}")
    channels = tuple(
        c.strip().lower() for c in env.get("ORDERS_NOTIFY_CHANNELS", "zalo,sms,email").split(",") if c.strip()
    )
    if not channels or any(c not in PROVIDERS for c in channels):
        raise ValueError(
            f"ORDERS_NOTIFY_CHANNELS must list some of zalo, sms, email, not {env['ORDERS_NOTIFY_CHANNELS']!r}"
        )
    quiet = env.get("ORDERS_QUIET_HOURS", "07:00-22:00")
    try:
        opens, closes = (datetime.time.fromisoformat(part.strip()) for part in quiet.split("-"))
    except ValueError:
        raise ValueError(f"ORDERS_QUIET_HOURS must be HH:MM-HH:MM (when marketing may go), not {quiet!r}") from None
    time_zone = env.get("ORDERS_NOTIFY_TZ", "Asia/Ho_Chi_Minh")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"ORDERS_NOTIFY_TZ must be an IANA time zone, not {time_zone!r}") from None
    staff = []
    for raw in (r.strip() for r in env.get("ORDERS_STAFF_NOTIFY", "").split(",") if r.strip()):
        try:
            staff.append(raw if "@" in raw else normalise_phone(raw, "ORDERS_STAFF_NOTIFY"))
        except DomainError:
            raise ValueError(f"ORDERS_STAFF_NOTIFY must list emails or phones, not {raw!r}") from None
    templates = {}
    for pair in (p.strip() for p in env.get("ORDERS_ZNS_TEMPLATES", "").split(",") if p.strip()):
        name, _, template_id = pair.partition(":")
        if name.strip() not in set(Template) or not template_id.strip():
            raise ValueError(f"ORDERS_ZNS_TEMPLATES must be template:id pairs, not {pair!r}")
        templates[name.strip()] = template_id.strip()
    return NotifyConfig(
        shop_name=env.get("ORDERS_SHOP_NAME", "Cửa hàng"),
        public_base_url=env.get("ORDERS_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        providers=providers,
        channels=channels,
        quiet_end=opens.strftime("%H:%M"),
        quiet_start=closes.strftime("%H:%M"),
        marketing_cap=_non_negative(env, "ORDERS_MARKETING_CAP", "3"),
        time_zone=time_zone,
        locale=_choice(env, "ORDERS_NOTIFY_LOCALE", DEFAULT_LOCALE, LOCALES),
        staff=tuple(staff),
        max_attempts=_positive(env, "ORDERS_NOTIFY_MAX_ATTEMPTS", "5"),
        campaign_batch=_positive(env, "ORDERS_CAMPAIGN_BATCH", "100"),
        sms=groups["sms"],
        zns={k: v for k, v in groups["zns"].items() if k != "templates"},
        zns_templates=templates,
        smtp=groups["smtp"],
    )


def _prefixed(env: dict[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
