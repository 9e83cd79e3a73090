"""Notification, consent and campaign payloads."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from notifications.policy import Channel, Consent, Purpose
from orders_service.domain.model import ONE_LINE


class Status(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class NotificationOut(Struct):
    id: UUID
    channel: Channel
    to: str
    template: str
    body: str
    status: Status
    reason: str | None
    created_at: datetime.datetime
    # Beyond the contract: what it is about, when it went, and when a deferred one will.
    purpose: Purpose
    locale: str
    order_id: UUID | None
    customer_id: UUID | None
    subject: str
    attempts: int
    sent_at: datetime.datetime | None
    deferred_until: datetime.datetime | None
    provider: str | None
    provider_message_id: str | None
    campaign: str | None


class ConsentIn(Struct, forbid_unknown_fields=True):
    channel: Channel
    purpose: Purpose
    state: Consent


Source = Annotated[str, Meta(min_length=1, max_length=32, pattern=ONE_LINE)]


class ConsentsIn(Struct, forbid_unknown_fields=True):
    consents: Annotated[list[ConsentIn], Meta(min_length=1, max_length=6)]
    source: Source = "staff"  # where she said it: pos, website, staff ...


class ConsentOut(Struct):
    channel: Channel
    purpose: Purpose
    state: Consent
    source: str
    updated_at: datetime.datetime


class ConsentsOut(Struct):
    customer_id: UUID
    opted_out: bool  # she used the unsubscribe link: no marketing until she grants consent again
    consents: list[ConsentOut]


class CampaignTemplate(enum.StrEnum):
    PROMOTION = "promotion"
    BIRTHDAY = "birthday"


class CampaignIn(Struct, forbid_unknown_fields=True):
    segment: Annotated[str, Meta(min_length=1, max_length=64, pattern=ONE_LINE)]
    template: CampaignTemplate
    message: Annotated[str, Meta(min_length=1, max_length=300, pattern=ONE_LINE)] | None = None
    # The campaign's name and idempotency key: sending it again reaches nobody twice. Made up when absent.
    key: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] | None = None
    dry_run: bool = False


class SuppressedOut(Struct):
    customer_id: UUID
    reason: str


class CampaignOut(Struct):
    campaign: str | None  # null on a dry run
    segment: str
    template: CampaignTemplate
    dry_run: bool
    recipients: int  # customers in the segment now
    would_send: int  # the gate lets them through now
    deferred: int  # quiet hours: they go when the window opens
    suppressed: list[SuppressedOut]  # who would not get it, and why
    queued: int  # messages recorded (0 on a dry run; customers already reached by this campaign are not counted)
