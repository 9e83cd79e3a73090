"""The notification settings a session carries in `session.info`, like the loyalty program: plain values."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any

import msgspec
from sqlalchemy import Connection, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from notifications.policy import Channel, Rules
from orders_service.db.models import ShopSetting

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
    campaign_batch: int = 100  # campaign members queued per transaction; also how many sends may wait before it pauses
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


class NotifySource:
    """One per process: the environment's config with the quiet hours and marketing cap an admin saved in the
    dashboard (`shop_settings` key `notifications`), and the shop's name and public URL (key `shop`), re-read at
    most every TTL seconds, like the loyalty program."""

    TTL = 5.0

    def __init__(self, base: NotifyConfig) -> None:
        self.base = self.config = base
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def expire(self) -> None:
        self._read_at = None

    def refresh(self, connection: Connection) -> None:
        now = time.monotonic()
        with self._lock:
            if self._read_at is not None and now - self._read_at < self.TTL:
                return
            self._read_at = now
        rows = connection.execute(
            select(ShopSetting.key, ShopSetting.value).where(ShopSetting.key.in_(("notifications", "shop")))
        )
        stored = {key: value for key, value in rows.tuples() if isinstance(value, dict)}
        base = _with_shop(self.base, stored.get("shop", {}))
        saved = stored.get("notifications")
        if saved is None:
            self.config = base
            return
        try:
            override = msgspec.structs.replace(
                base,
                quiet_start=str(saved.get("quiet_start", self.base.quiet_start)),
                quiet_end=str(saved.get("quiet_end", self.base.quiet_end)),
                marketing_cap=int(saved.get("marketing_cap_per_day", self.base.marketing_cap)),
            )
            override.rules()  # a hand-edited row that does not parse must not stop the messages
            self.config = override
        except (TypeError, ValueError):
            self.config = base


def _with_shop(config: NotifyConfig, shop: dict[str, Any]) -> NotifyConfig:
    """The shop's name and public URL an admin set (blank: the environment's), as messages use them."""
    name, url = shop.get("name"), shop.get("public_url")
    return msgspec.structs.replace(
        config,
        shop_name=name if isinstance(name, str) and name.strip() else config.shop_name,
        public_base_url=url.rstrip("/") if isinstance(url, str) and url.strip() else config.public_base_url,
    )


@event.listens_for(Session, "after_begin")
def _refresh(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    source = session.info.get(NOTIFY_KEY)
    if isinstance(source, NotifySource):
        source.refresh(connection)


def config_of(session: AsyncSession) -> NotifyConfig:
    """The config the app or worker put in its sessions' `info`; the defaults otherwise (scripts, tests)."""
    config: Any = session.info.get(NOTIFY_KEY)
    if isinstance(config, NotifySource):
        return config.config
    return config if isinstance(config, NotifyConfig) else NotifyConfig()
