"""The campaign handler driven by hand, the relay off: a run that spends its time budget leaves a message to go
on and the next run takes the next batch; two runs at once take turns and reach each member once.

The campaign is accepted over HTTP like any other; the test then plays the relay with `core.drain` on its own
engine (the app's pool lives on the test client's loop), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.runtime import session_info
from orders_service.infra.settings import Settings
from orders_service.messaging.expansion import TOPIC, expand_campaign
from orders_service.messaging.models import Campaign, Notification
from orders_service.relay import core
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.test_campaigns import BATCH, campaign, customers, send

pytestmark = pytest.mark.anyio
MEMBERS = 2 * BATCH + 5


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    for found in engine_settings(request, tmp_path):
        yield msgspec.structs.replace(found, relay="off")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings, poolclass=NullPool)
    yield async_sessionmaker(engine, expire_on_commit=False, info=session_info(settings))
    await engine.dispose()


async def per_member(db: async_sessionmaker[AsyncSession], key: str) -> list[int]:
    async with db() as session:
        rows = await session.execute(
            select(func.count()).where(Notification.campaign == key).group_by(Notification.customer_id)
        )
        return [n for (n,) in rows.tuples()]


async def test_a_run_out_of_time_leaves_a_message_to_go_on(api: Api, db: async_sessionmaker[AsyncSession]) -> None:
    await customers(api, MEMBERS)
    assert (await send(api, "in-steps")).status_code == 202
    assert (await campaign(api, "in-steps"))["state"] == "queued"  # the relay is off: nothing started yet
    runs: list[str] = []

    async def expand(message: OutboxMessage) -> str:
        outcome = await expand_campaign(db, message.key, budget_s=0)  # one batch per run
        runs.append(outcome)
        return outcome

    async def sent(message: OutboxMessage) -> str:
        return "not sent here"

    await core.drain(db, {TOPIC: expand, "notifications.send": sent})
    assert runs == ["continued", "continued", "done"]  # 10 + 10 + 5 members
    done = await campaign(api, "in-steps")
    assert (done["state"], done["processed"], done["queued"]) == ("done", MEMBERS, MEMBERS)
    async with db() as session:
        steps = await session.scalars(select(OutboxMessage.processed_at).where(OutboxMessage.topic == TOPIC))
        assert [at is not None for at in steps] == [True, True, True]
    assert await per_member(db, "in-steps") == [1] * MEMBERS


async def test_two_runs_at_once_take_turns(api: Api, db: async_sessionmaker[AsyncSession], time_of_day: str) -> None:
    await customers(api, MEMBERS)
    assert (await send(api, "twice")).status_code == 202
    outcomes = await asyncio.gather(expand_campaign(db, "twice"), expand_campaign(db, "twice"))
    if time_of_day == "quiet-hours":  # every message waits for 07:00: none is due, so nothing holds the runs back
        assert set(outcomes) <= {"done", "nothing to do"}
    else:  # each batch's messages are due at once, and nobody sends them here: the runs pause, as paced
        assert "continued" in outcomes
        while "continued" in outcomes:  # the relay runs the message each paused run left
            outcomes = await asyncio.gather(expand_campaign(db, "twice"), expand_campaign(db, "twice"))
    done = await campaign(api, "twice")
    assert (done["state"], done["recipients"], done["processed"], done["skipped"]) == ("done", MEMBERS, MEMBERS, 0)
    assert done["deferred"] == (MEMBERS if time_of_day == "quiet-hours" else 0)
    assert await per_member(db, "twice") == [1] * MEMBERS


async def test_a_run_waits_while_the_relay_has_more_than_a_batch_to_send(
    api: Api, db: async_sessionmaker[AsyncSession], time_of_day: str
) -> None:
    await customers(api, MEMBERS)
    async with db() as session, session.begin():  # other messages already waiting for the relay
        for _ in range(BATCH + 1):
            session.add(OutboxMessage(topic="notifications.send", key=str(uuid.uuid4()), payload={}))
    assert (await send(api, "paced")).status_code == 202
    assert await expand_campaign(db, "paced") == "continued"  # one batch, then room for the others
    paused = await campaign(api, "paced")
    assert (paused["state"], paused["processed"]) == ("sending", BATCH)
    async with db() as session:
        going_on = select(func.count()).where(OutboxMessage.topic == TOPIC, OutboxMessage.processed_at.is_(None))
        assert await session.scalar(going_on) == 2  # the one the API left, and the one to go on with

    async def expand(message: OutboxMessage) -> str:
        return await expand_campaign(db, message.key)

    async def sent(message: OutboxMessage) -> str:
        return "not sent here"

    await core.drain(db, {TOPIC: expand, "notifications.send": sent})
    done = await campaign(api, "paced")
    assert (done["state"], done["processed"], done["skipped"]) == ("done", MEMBERS, 0)
    assert await per_member(db, "paced") == [1] * MEMBERS


async def test_a_campaign_whose_segment_is_gone_fails_and_says_why(
    api: Api, db: async_sessionmaker[AsyncSession]
) -> None:
    async with db() as session, session.begin():  # as a release that renamed a segment would leave it
        session.add(Campaign(key="renamed", segment="old_vip", template="promotion", created_by="test"))
    assert await expand_campaign(db, "renamed") == "failed"
    failed = await campaign(api, "renamed")
    assert (failed["state"], failed["recipients"], failed["processed"]) == ("failed", None, 0)
    assert failed["last_error"] == "segment old_vip does not exist" and failed["finished_at"] is not None
    assert await expand_campaign(db, "renamed") == "nothing to do"
