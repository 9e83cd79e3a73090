"""Turning declared variables into values: numbers with their bounds, courier accounts, the notification config.

A wrong value is a one-line ValueError naming its variable, so that a process refuses to start with it.
"""

from __future__ import annotations

import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifications.templates import Template
from orders_service.domain.errors import DomainError
from orders_service.domain.phones import normalise_phone
from orders_service.infra.settings.declared import Env
from orders_service.infra.settings.registry import DECLARED
from orders_service.messaging.config import NotifyConfig

N = TypeVar("N", int, float)


def number(env: Env, name: str, kind: type[N]) -> N:
    raw = env.get(name)
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None


def positive(env: Env, name: str) -> int:
    value = number(env, name, int)
    if value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value}")
    return value


def non_negative(env: Env, name: str) -> int:
    value = number(env, name, int)
    if value < 0:
        raise ValueError(f"{name} must be a whole number of at least 0, not {value}")
    return value


def group(env: Env, prefix: str) -> dict[str, str]:
    """The declared ORDERS_<GROUP>_<KEY> variables that are set, as {key: value} (ORDERS_GHN_TOKEN -> token).

    Only what is set: an unset key keeps the adapter's or provider's own default (the one declared), and a
    courier with nothing set is not configured at all."""
    found = {}
    for name in (n for n in DECLARED if n.startswith(prefix)):
        value = env.given(name)
        if value is not None:
            found[name[len(prefix) :].lower()] = value
    return found


def courier_settings(env: Env) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for courier in ("sandbox", "ghn", "ghtk", "viettelpost", "ahamove"):
        values = group(env, f"ORDERS_{courier.upper()}_")
        if values:
            found[courier] = values
    return found


CHANNELS = {"sms": "ORDERS_NOTIFY_SMS", "zalo": "ORDERS_NOTIFY_ZALO", "email": "ORDERS_NOTIFY_EMAIL"}
# What a real provider cannot work without: ORDERS_SMS_API_KEY, ORDERS_ZNS_ACCESS_TOKEN, ORDERS_SMTP_HOST, ...
REQUIRED = {
    "gateway": ("sms", ("api_key", "secret_key", "brandname")),
    "zns": ("zns", ("access_token",)),
    "smtp": ("smtp", ("host", "from")),
}


def notify_config(env: Env) -> NotifyConfig:
    providers = {channel: env.choice(name) for channel, name in CHANNELS.items()}
    groups = {g: group(env, f"ORDERS_{g.upper()}_") for g in ("sms", "zns", "smtp")}
    for provider in providers.values():
        if provider in REQUIRED:
            kind, keys = REQUIRED[provider]
            missing = [f"ORDERS_{kind.upper()}_{k.upper()}" for k in keys if not groups[kind].get(k)]
            if missing:
                raise ValueError(f"the {provider} provider needs {', '.join(missing)}")
    listed = env.get("ORDERS_NOTIFY_CHANNELS")
    channels = tuple(c.strip().lower() for c in listed.split(",") if c.strip())
    if not channels or any(c not in CHANNELS for c in channels):
        raise ValueError(f"ORDERS_NOTIFY_CHANNELS must list some of zalo, sms, email, not {listed!r}")
    quiet = env.get("ORDERS_QUIET_HOURS")
    try:
        opens, closes = (datetime.time.fromisoformat(part.strip()) for part in quiet.split("-"))
    except ValueError:
        raise ValueError(f"ORDERS_QUIET_HOURS must be HH:MM-HH:MM (when marketing may go), not {quiet!r}") from None
    time_zone = env.get("ORDERS_NOTIFY_TZ")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"ORDERS_NOTIFY_TZ must be an IANA time zone, not {time_zone!r}") from None
    return NotifyConfig(
        shop_name=env.get("ORDERS_SHOP_NAME"),
        public_base_url=env.get("ORDERS_PUBLIC_BASE_URL").rstrip("/"),
        providers=providers,
        channels=channels,
        quiet_end=opens.strftime("%H:%M"),
        quiet_start=closes.strftime("%H:%M"),
        marketing_cap=non_negative(env, "ORDERS_MARKETING_CAP"),
        time_zone=time_zone,
        locale=env.choice("ORDERS_NOTIFY_LOCALE"),
        staff=_staff(env),
        max_attempts=positive(env, "ORDERS_NOTIFY_MAX_ATTEMPTS"),
        campaign_batch=positive(env, "ORDERS_CAMPAIGN_BATCH"),
        sms=groups["sms"],
        zns={k: v for k, v in groups["zns"].items() if k != "templates"},
        zns_templates=_zns_templates(env),
        smtp=groups["smtp"],
    )


def _staff(env: Env) -> tuple[str, ...]:
    staff = []
    for raw in (r.strip() for r in env.get("ORDERS_STAFF_NOTIFY").split(",") if r.strip()):
        try:
            staff.append(raw if "@" in raw else normalise_phone(raw, "ORDERS_STAFF_NOTIFY"))
        except DomainError:
            raise ValueError(f"ORDERS_STAFF_NOTIFY must list emails or phones, not {raw!r}") from None
    return tuple(staff)


def _zns_templates(env: Env) -> dict[str, str]:
    templates = {}
    for pair in (p.strip() for p in env.get("ORDERS_ZNS_TEMPLATES").split(",") if p.strip()):
        name, _, template_id = pair.partition(":")
        if name.strip() not in set(Template) or not template_id.strip():
            raise ValueError(f"ORDERS_ZNS_TEMPLATES must be template:id pairs, not {pair!r}")
        templates[name.strip()] = template_id.strip()
    return templates
