"""Tables: every message with its status and reason, consents per channel and purpose, unsubscribe tokens,
campaigns and who each one reaches."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7Base
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orders_service.infra import clock


def _now() -> datetime.datetime:
    return clock.now()


class Notification(UUIDv7Base):
    """One message: rendered when its cause committed, then sent, deferred, suppressed or failed by the relay.

    `dedupe_key` names the cause (the order's version, the courier event, the campaign and customer): a cause
    seen twice (a webhook delivered again) finds its message already there and makes no second one.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_notifications_dedupe_key"),
        Index("ix_notifications_to_purpose_sent", "to", "purpose", "sent_at"),  # the marketing cap per phone
        Index("ix_notifications_customer_created", "customer_id", "created_at"),
        Index("ix_notifications_order_created", "order_id", "created_at"),
    )

    customer_id: Mapped[UUID | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), default=None)
    order_id: Mapped[UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), default=None)
    channel: Mapped[str] = mapped_column(String(8))  # the channel it went (or will first try to go) by
    to: Mapped[str] = mapped_column(String(254))  # full address; logs mask it
    contacts: Mapped[dict[str, str]] = mapped_column(JsonB, default=dict)  # every channel's address, for fallback
    purpose: Mapped[str] = mapped_column(String(16))  # transactional | marketing
    template: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(300), default=None)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | sent | failed | suppressed
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    deferred_until: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    campaign: Mapped[str | None] = mapped_column(String(64), default=None)
    provider: Mapped[str | None] = mapped_column(String(32), default=None)
    provider_message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    sent_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class NotificationConsent(UUIDv7Base):
    """What a customer said about one channel and purpose: granted or withdrawn, when, and where we heard it."""

    __tablename__ = "notification_consents"
    __table_args__ = (
        UniqueConstraint("customer_id", "channel", "purpose", name="uq_notification_consents_customer_channel"),
    )

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))  # granted | withdrawn
    source: Mapped[str] = mapped_column(String(32))  # pos, website, staff, unsubscribe_link ...
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)


class UnsubscribeToken(UUIDv7Base):
    """The secret in a customer's unsubscribe link, and whether she used it (then no marketing reaches her)."""

    __tablename__ = "unsubscribe_tokens"

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    unsubscribed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class Campaign(UUIDv7Base):
    """A marketing message to a segment, accepted at once and expanded by the relay in short batches.

    `cursor` is the last member handled (members are walked by customer id), so a run cut short goes on from
    there; the counters move in the same transaction as the messages they count.
    """

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_created_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(64), unique=True)  # the caller's idempotency key
    segment: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    started_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued | sending | done | failed
    recipients: Mapped[int | None] = mapped_column(Integer, default=None)  # known once the members are fixed
    processed: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    deferred: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[UUID | None] = mapped_column(GUID(length=16), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class CampaignMember(UUIDv7Base):
    """Who a campaign reaches: its segment's members, written once when the relay takes the campaign up."""

    __tablename__ = "campaign_members"
    __table_args__ = (UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_members_campaign_customer"),)

    campaign_id: Mapped[UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
