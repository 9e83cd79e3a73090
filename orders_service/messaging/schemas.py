"""Notification, consent and campaign payloads."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from notifications.policy import Channel, Consent, Purpose
from orders_service.domain.model import ONE_LINE
from orders_service.loyalty.segments import NAMES


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


Key = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class CampaignIn(Struct, forbid_unknown_fields=True):
    # One of the segments (the schema lists them; the service answers an unknown one with a 422 naming the list).
    segment: Annotated[
        str, Meta(min_length=1, max_length=64, pattern=ONE_LINE, extra_json_schema={"extra": {"enum": list(NAMES)}})
    ]
    template: CampaignTemplate
    message: Annotated[str, Meta(min_length=1, max_length=300, pattern=ONE_LINE)] | None = None
    # The campaign's name and idempotency key: sending it again reaches nobody twice. Made up when absent.
    key: Key | None = None
    dry_run: bool = False


class CampaignState(enum.StrEnum):
    QUEUED = "queued"  # accepted; the relay has not taken it up yet
    SENDING = "sending"  # members fixed, messages being queued batch by batch
    DONE = "done"  # every member handled
    FAILED = "failed"  # stopped for good: `last_error` says why


class CampaignOut(Struct):
    key: str
    segment: str
    template: CampaignTemplate
    message: str | None
    state: CampaignState
    recipients: int | None  # members of the segment, fixed when the relay takes the campaign up; null before
    processed: int  # members handled so far: progress is processed / recipients
    queued: int  # messages handed to the relay to send (including deferred ones)
    deferred: int  # of those, held by quiet hours: they go when the window opens
    suppressed: int  # members the gate turned away (no consent, opted out, the cap): recorded with the reason
    skipped: int  # members this key had already reached, or no longer live profiles
    last_error: str | None  # why the last run stopped, if it did (it is retried)
    created_by: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    updated_at: datetime.datetime


class SuppressedOut(Struct):
    customer_id: UUID
    reason: str


class CampaignPreviewOut(Struct):
    """A dry run: what the gate would do now, member by member; nothing is written."""

    segment: str
    template: CampaignTemplate
    dry_run: bool
    recipients: int  # customers in the segment now
    would_send: int  # the gate lets them through now
    deferred: int  # quiet hours: they would go when the window opens
    suppressed_total: int  # who would not get it
    suppressed_reasons: dict[str, int]  # how many for each reason
    suppressed: list[SuppressedOut]  # the first of them (by customer id) and why; at most 100
