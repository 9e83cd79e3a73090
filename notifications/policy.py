"""The one policy gate every message passes before it is sent: pure, no clock, no database.

Inputs are plain values (consents, the marketing messages this phone already got, the quiet hours and the
cap) so that settings, an admin page or a test can supply them alike. Rules, in order:
transactional messages always go (on the first channel the customer has not turned off); marketing needs
no opt-out, a granted consent on some channel (silence is not consent, Decree 13), fewer than `cap` marketing
messages to the phone in the last 24 h (Decree 91; over it the message is dropped, not rescheduled), and the
local time inside the quiet-hours window (outside it the message waits for the window to open).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


class Channel(enum.StrEnum):
    ZALO = "zalo"
    SMS = "sms"
    EMAIL = "email"


class Purpose(enum.StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"


class Consent(enum.StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class Action(enum.StrEnum):
    SEND = "send"
    DEFER = "defer"
    SUPPRESS = "suppress"


@dataclass(frozen=True)
class Rules:
    """The shop's rules: the window marketing may be sent in (local time), the cap per phone per window."""

    quiet_end: datetime.time = datetime.time(7, 0)  # marketing may go from here ...
    quiet_start: datetime.time = datetime.time(22, 0)  # ... until here
    marketing_cap: int = 3
    cap_window: datetime.timedelta = datetime.timedelta(hours=24)
    time_zone: str = "Asia/Ho_Chi_Minh"
    channels: tuple[Channel, ...] = (Channel.ZALO, Channel.SMS, Channel.EMAIL)  # preference, cheapest first


@dataclass(frozen=True)
class Candidate:
    """One message about to be sent: where it can go, what the customer said, what she already got."""

    purpose: Purpose
    contacts: Mapping[Channel, str]  # the address per channel she can be reached on (phone, email)
    consents: Mapping[tuple[Channel, Purpose], Consent] = field(default_factory=dict)
    opted_out: bool = False  # unsubscribed from all marketing (the link in every marketing message)
    marketing_sent: Sequence[datetime.datetime] = ()  # when marketing messages went to this phone lately


@dataclass(frozen=True)
class Decision:
    action: Action
    channels: tuple[Channel, ...] = ()  # where to send it, in order: the next one if the first cannot deliver
    until: datetime.datetime | None = None  # when a deferred message may go
    reason: str | None = None


def allowed_channels(candidate: Candidate, rules: Rules) -> tuple[Channel, ...]:
    """The channels this message may use, in the shop's order: transactional unless turned off, marketing if granted."""
    found = []
    for channel in rules.channels:
        if channel not in candidate.contacts:
            continue
        state = candidate.consents.get((channel, candidate.purpose))
        if (candidate.purpose is Purpose.MARKETING and state is Consent.GRANTED) or (
            candidate.purpose is Purpose.TRANSACTIONAL and state is not Consent.WITHDRAWN
        ):
            found.append(channel)
    return tuple(found)


def in_window(t: datetime.time, rules: Rules) -> bool:
    """Whether marketing may go at local time `t`. Quiet hours usually span midnight (22:00 to 07:00: the window is
    between them), but a shop may keep them within one day (00:00 to 06:00: the window is the rest); equal
    times mean no quiet hours."""
    if rules.quiet_start == rules.quiet_end:
        return True
    if rules.quiet_end < rules.quiet_start:
        return rules.quiet_end <= t < rules.quiet_start
    return not rules.quiet_start <= t < rules.quiet_end


def window_opens(now: datetime.datetime, rules: Rules) -> datetime.datetime | None:
    """None inside the marketing window; else the moment (UTC) it next opens."""
    local = now.astimezone(ZoneInfo(rules.time_zone))
    if in_window(local.time(), rules):
        return None
    day = local.date() if local.time() < rules.quiet_end else local.date() + datetime.timedelta(days=1)
    opens = datetime.datetime.combine(day, rules.quiet_end, tzinfo=ZoneInfo(rules.time_zone))
    return opens.astimezone(datetime.UTC)


def decide(candidate: Candidate, now: datetime.datetime, rules: Rules) -> Decision:
    channels = allowed_channels(candidate, rules)
    if candidate.purpose is Purpose.TRANSACTIONAL:
        if not channels:
            return Decision(Action.SUPPRESS, reason="no channel to reach the recipient on")
        return Decision(Action.SEND, channels)
    if candidate.opted_out:
        return Decision(Action.SUPPRESS, reason="opted out of marketing messages")
    if not channels:
        return Decision(Action.SUPPRESS, reason="no marketing consent on any channel she can be reached on")
    recent = [at for at in candidate.marketing_sent if now - rules.cap_window < at <= now]
    if len(recent) >= rules.marketing_cap:
        hours = int(rules.cap_window.total_seconds() // 3600)
        return Decision(
            Action.SUPPRESS,
            reason=f"frequency cap: {len(recent)} marketing messages to this phone in the last {hours} h "
            f"(at most {rules.marketing_cap})",
        )
    opens = window_opens(now, rules)
    if opens is not None:
        local = rules.quiet_end.strftime("%H:%M")
        return Decision(Action.DEFER, channels, until=opens, reason=f"quiet hours: deferred to {local} local time")
    return Decision(Action.SEND, channels)
