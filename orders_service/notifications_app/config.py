"""The notification settings a session carries in `session.info`, like the loyalty program: plain values."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.policy import Channel, Rules

NOTIFY_KEY = "notify_config"


class NotifyConfig(msgspec.Struct, frozen=True, kw_only=True):
    shop_name: str = "Cửa hàng"
    public_base_url: str = "http://127.0.0.1:8000"
    # Per channel: log (default), or the real provider: sms=gateway, zalo=zns, email=smtp.
    providers: dict[str, str] = msgspec.field(default_factory=lambda: {"sms": "log", "zalo": "log", "email": "log"})
    channels: tuple[str, ...] = ("zalo", "sms", "email")  # the order a message tries them in
    quiet_end: str = "07:00"  # marketing goes out from quiet_end ...
    quiet_start: str = "22:00"  # ... until quiet_start, local time
    marketing_cap: int = 3
    time_zone: str = "Asia/Ho_Chi_Minh"
    locale: str = "vi"
    staff: tuple[str, ...] = ()  # who hears about refused courier changes: emails and phones (E.164)
    max_attempts: int = 5  # transient provider failures before a message is recorded as failed
    sms: dict[str, str] = msgspec.field(default_factory=dict)  # url, api_key, secret_key, brandname, timeout_s
    zns: dict[str, str] = msgspec.field(default_factory=dict)  # access_token, url, timeout_s
    zns_templates: dict[str, str] = msgspec.field(default_factory=dict)  # our template -> ZNS template id
    smtp: dict[str, str] = msgspec.field(default_factory=dict)  # host, port, user, password, from, starttls

    def rules(self) -> Rules:
        return Rules(
            quiet_end=_time(self.quiet_end),
            quiet_start=_time(self.quiet_start),
            marketing_cap=self.marketing_cap,
            time_zone=self.time_zone,
            channels=tuple(Channel(c) for c in self.channels),
        )


def _time(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def config_of(session: AsyncSession) -> NotifyConfig:
    """The config the app or worker put in its sessions' `info`; the defaults otherwise (scripts, tests)."""
    config: Any = session.info.get(NOTIFY_KEY)
    return config if isinstance(config, NotifyConfig) else NotifyConfig()
