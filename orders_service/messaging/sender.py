"""The relay's handler for `notifications.send`: the gate decides, a provider sends, the outcome is recorded.

The gate runs when the message is due, not when it was queued: consent withdrawn meanwhile, or the cap
reached by messages sent meanwhile, still count. A provider is called outside any database transaction.
Transient failures are recorded and raised for the relay to retry with backoff, up to `max_attempts`;
permanent ones are recorded as failed, after trying the next consented channel if this one cannot deliver.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast
from uuid import UUID

from sqlalchemy import Table, and_, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.policy import Action, Candidate, Channel, Consent, Decision, Purpose, decide
from notifications.providers import (
    OutboundMessage,
    Provider,
    ProviderError,
    TransientProviderError,
    Undeliverable,
)
from orders_service.customers.scrub import PLACEHOLDER
from orders_service.db import sqlite_trips
from orders_service.db.engine import begin_write
from orders_service.infra import clock
from orders_service.infra.outbox import enqueue_now
from orders_service.messaging.config import NotifyConfig, config_of
from orders_service.messaging.models import Notification, NotificationConsent, UnsubscribeToken
from orders_service.messaging.queue import TOPIC

log = logging.getLogger(__name__)


def _now() -> datetime.datetime:
    return clock.now()


async def candidates_for(
    session: AsyncSession,
    people: Sequence[tuple[UUID | None, Mapping[str, str]]],
    purpose: Purpose,
    now: datetime.datetime,
    config: NotifyConfig,
) -> list[Candidate]:
    """What the gate needs about each recipient (her consents, opt-out, and the marketing her phone got lately),
    in three queries whatever their number (a campaign's batch)."""
    ids = sorted({customer_id for customer_id, _ in people if customer_id is not None})
    consents: dict[UUID, dict[tuple[Channel, Purpose], Consent]] = {}
    opted_out: set[UUID] = set()
    if ids:
        rows = await session.scalars(select(NotificationConsent).where(NotificationConsent.customer_id.in_(ids)))
        for r in rows:
            consents.setdefault(r.customer_id, {})[(Channel(r.channel), Purpose(r.purpose))] = Consent(r.state)
        opted_out = set(
            await session.scalars(
                select(UnsubscribeToken.customer_id).where(
                    UnsubscribeToken.customer_id.in_(ids), UnsubscribeToken.unsubscribed_at.is_not(None)
                )
            )
        )
    addresses = {address for _, contacts in people for address in contacts.values()}
    sent = await _marketing_sent(session, addresses, now, config) if purpose is Purpose.MARKETING else {}
    return [
        _candidate(
            purpose,
            contacts,
            consents.get(customer_id, {}) if customer_id is not None else {},
            customer_id in opted_out,
            sent,
        )
        for customer_id, contacts in people
    ]


async def _marketing_sent(
    session: AsyncSession, addresses: set[str], now: datetime.datetime, config: NotifyConfig
) -> dict[str, list[datetime.datetime]]:
    """When marketing went to each of these addresses within the cap's window."""
    sent: dict[str, list[datetime.datetime]] = {}
    if addresses:
        rows_sent = await session.execute(
            select(Notification.to, Notification.sent_at).where(
                Notification.to.in_(sorted(addresses)),
                Notification.purpose == str(Purpose.MARKETING),
                Notification.status == "sent",
                Notification.sent_at > now - config.rules().cap_window,
            )
        )
        for to, at in rows_sent.tuples():
            if at is not None:
                sent.setdefault(to, []).append(at)
    return sent


def _candidate(
    purpose: Purpose,
    contacts: Mapping[str, str],
    consents: Mapping[tuple[Channel, Purpose], Consent],
    opted_out: bool,
    sent: Mapping[str, list[datetime.datetime]],
) -> Candidate:
    return Candidate(
        purpose=purpose,
        contacts={Channel(c): a for c, a in contacts.items()},
        consents=consents,
        opted_out=opted_out,
        # Her phone serves both Zalo and SMS: a message to it counts once.
        marketing_sent=[at for address in sorted(set(contacts.values())) for at in sent.get(address, [])],
    )


class Queued(NamedTuple):
    """A queued message as its send needs it (read as plain values: no object for the ORM to track)."""

    id: UUID
    purpose: str
    contacts: dict[str, str]
    template: str
    subject: str
    body: str
    params: dict[str, Any]
    unsubscribe_url: str | None
    attempts: int


# The message with what the gate needs about her in one statement: her consents for its purpose (a row per
# channel she said something about) and her opt-out. It was three: the message, her consents, her opt-out.
_N = cast(Table, Notification.__table__)
_DUE = (
    select(
        *(_N.c[name] for name in Queued._fields),
        _N.c.status,
        _N.c.deferred_until,
        NotificationConsent.channel,
        NotificationConsent.state,
        UnsubscribeToken.unsubscribed_at,
    )
    .select_from(_N)
    .outerjoin(
        NotificationConsent,
        and_(NotificationConsent.customer_id == _N.c.customer_id, NotificationConsent.purpose == _N.c.purpose),
    )
    .outerjoin(UnsubscribeToken, UnsubscribeToken.customer_id == _N.c.customer_id)
    .where(_N.c.id == bindparam("notification_id"))
)


async def _due(
    session: AsyncSession, notification_id: UUID, now: datetime.datetime, config: NotifyConfig
) -> tuple[Queued, Candidate] | None:
    """The message still queued and due, and what the gate needs about its recipient; None if it is not."""
    rows = (await session.execute(_DUE, {"notification_id": notification_id})).all()
    if not rows:
        return None
    fields = len(Queued._fields)
    row = Queued(*rows[0][:fields])
    status, deferred_until, _, _, unsubscribed_at = rows[0][fields:]
    if status != "queued":
        return None  # done already: a redelivered task or a second outbox row changes nothing
    if deferred_until is not None and deferred_until > now:
        return None  # its own deferred outbox row comes back then
    purpose = Purpose(row.purpose)
    consents = {(Channel(channel), purpose): Consent(state) for *_, channel, state, _ in rows if channel is not None}
    sent = {}
    if purpose is Purpose.MARKETING:  # the cap counts marketing only
        sent = await _marketing_sent(session, set(row.contacts.values()), now, config)
    return row, _candidate(purpose, row.contacts, consents, unsubscribed_at is not None, sent)


async def _decide(
    db: async_sessionmaker[AsyncSession], notification_id: UUID
) -> tuple[Queued, Decision, NotifyConfig] | None:
    now = _now()
    async with db() as session, session.begin():
        await begin_write(session)
        config = config_of(session)
        due = await _due(session, notification_id, now, config)
        if due is None:
            return None
        row, candidate = due
        decision = decide(candidate, now, config.rules())
        changes: dict[str, object]
        if decision.action is Action.SUPPRESS:
            changes = {"status": "suppressed", "reason": decision.reason}
        elif decision.action is Action.DEFER:
            assert decision.until is not None  # a deferral always says until when
            # The channel it will go by as things stand (not merely the first reachable), and its address.
            channel = decision.channels[0]
            changes = {"deferred_until": decision.until, "reason": decision.reason}
            changes |= {"channel": str(channel), "to": row.contacts[channel]}
            payload = {"notification_id": str(row.id)}
            await enqueue_now(session, TOPIC, str(row.id), payload, available_at=decision.until)
        else:
            row = row._replace(attempts=row.attempts + 1)
            changes = {"attempts": row.attempts}
        # What was decided, in one UPDATE (on SQLite with the COMMIT, in one trip).
        async with sqlite_trips.held_in(session):
            await session.execute(_UPDATE, {"id_": row.id, **changes})
    return row, decision, config


async def _record(db: async_sessionmaker[AsyncSession], notification_id: UUID, **values: object) -> None:
    """What became of the message, in one UPDATE (it was a SELECT of the row, then its UPDATE)."""
    statement = _UPDATE
    if "to" in values:
        statement, values["to_"] = _RECORD_TO, values.pop("to")
    async with db() as session, session.begin():
        await begin_write(session)
        async with sqlite_trips.held_in(session):  # on SQLite, BEGIN, the UPDATE and COMMIT in one trip
            await session.execute(statement, {"id_": notification_id, **values})


# Built once (each message used to build its own, and have its cache key worked out): the columns set are the
# parameters' names, as SQLAlchemy's compiled-statement cache keys them.
_UPDATE = update(_N).where(_N.c.id == bindparam("id_"))
# She was erased while the provider had the message: what happened is recorded, her address is not written back
# (the erasure replaced it, and nothing of hers may return). Decided by the UPDATE itself, on the row as it is
# when written, so an erasure committed meanwhile is seen.
_RECORD_TO = _UPDATE.values(
    to=case(
        (_N.c.to == PLACEHOLDER, _N.c.to),
        else_=bindparam("to_", type_=_N.c.to.type),
    )
)


async def send_notification(
    db: async_sessionmaker[AsyncSession], providers: Mapping[Channel, Provider], notification_id: UUID
) -> str:
    decided = await _decide(db, notification_id)
    if decided is None:
        return "nothing to do"
    row, decision, config = decided
    if decision.action is not Action.SEND:
        return str(decision.action)
    max_attempts = config.max_attempts
    refusals: list[str] = []
    for channel in decision.channels:
        provider = providers[channel]
        message = OutboundMessage(
            id=str(row.id),
            channel=channel,
            to=row.contacts[channel],
            template=row.template,
            purpose=Purpose(row.purpose),
            subject=row.subject,
            body=row.body,
            params=row.params,
            unsubscribe_url=row.unsubscribe_url,
        )
        try:
            receipt = await provider.send(message)
        except Undeliverable as error:
            refusals.append(f"{channel}: {error.message}")
            continue  # the next consented channel may reach her
        except TransientProviderError as error:
            said = f"{channel}: {error.message}"
            if row.attempts >= max_attempts:
                await _record(db, row.id, status="failed", reason=f"gave up after {row.attempts} attempts; {said}")
                return "failed"
            await _record(db, row.id, reason=f"attempt {row.attempts} failed, retrying: {said}")
            raise
        except ProviderError as error:
            refusals.append(f"{channel}: {error.message}")
            break  # the provider refused the message itself (credentials, template): staff must act
        await _record(
            db,
            row.id,
            status="sent",
            channel=str(channel),
            to=message.to,
            provider=provider.name,
            provider_message_id=receipt.provider_id[:128],
            sent_at=_now(),
            reason="; ".join(f"not sent by {r}" for r in refusals) or None,  # why it went by a fallback channel
        )
        return "sent"
    await _record(db, row.id, status="failed", reason="; ".join(refusals) or "no provider took it")
    log.warning("notification %s failed: %s", row.id, "; ".join(refusals))
    return "failed"
