"""What the relay's two messaging handlers ask of the database for an amendment's message, counted (never
timed), on SQLite and PostgreSQL: `notifications.order_amended` (make_amended_message: her message queued) and
`notifications.send` (send_notification: the gate, the provider, the outcome recorded). With the courier sync,
they are the relay's work per amendment (issue 18: the relay falls behind the API in embedded mode)."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.sql.cache_key import HasCacheKey

from orders_service.app import create_app
from orders_service.db.engine import create_engine
from orders_service.db.models import Customer, OutboxMessage
from orders_service.infra import clock
from orders_service.infra.runtime import session_info
from orders_service.infra.settings import Settings
from orders_service.messaging.birthdays import queue_birthdays
from orders_service.messaging.models import Notification
from orders_service.messaging.providers import build_providers
from orders_service.messaging.queue import TOPIC
from orders_service.messaging.triggers import AMENDED_TOPIC
from orders_service.relay.handlers import build_handlers
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.test_amend_statements import Statements

pytestmark = pytest.mark.anyio

# make_amended_message: BEGIN (IMMEDIATE on SQLite), her name, email, erasure and first phone in one statement
# with her profile held, the message's INSERT .. ON CONFLICT (dedupe_key) DO NOTHING, its outbox row, COMMIT.
# Before: 10 (her profile, then her phones, then her erasure read again under the lock; the dedupe SELECT, then
# the INSERT in a SAVEPOINT).
MAX_AMENDED = 5
# send_notification: the decision (BEGIN, the message with her consents for its purpose and her opt-out in one
# statement, the attempt counted, COMMIT), then the outcome (BEGIN, its UPDATE, COMMIT). Before: 10 (the message,
# her consents, her opt-out: three reads; the outcome's UPDATE after reading the message again).
MAX_SEND = 7


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


def _show(seen: list[str]) -> str:
    return "\n".join(s[:160] for s in seen)


class Relay:
    """The relay's own handlers on a database with amended orders, called directly (not by the relay's loop)."""

    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        self.db = async_sessionmaker(engine, expire_on_commit=False, info=session_info(settings))
        self.handlers = build_handlers(self.db, None, providers=build_providers(settings.notify))  # type: ignore[arg-type]
        # Counting for the engine's whole life: it is disposed with the test.
        self.counted = Statements(engine).__enter__()

    async def rows(self, topic: str) -> list[OutboxMessage]:
        async with self.db() as session:
            query = select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.created_at)
            return list(await session.scalars(query))

    async def message(self, key: str) -> Notification:
        async with self.db() as session:
            found = await session.scalar(select(Notification).where(Notification.dedupe_key == key))
            assert found is not None, key
            return found


@pytest.fixture
async def relay(settings: Settings, keys: dict[str, str]) -> AsyncIterator[tuple[Relay, list[dict[str, Any]]]]:
    """Two orders, each amended once by the API (its relay off), and the relay's handlers beside it."""
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    orders = []
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        for _ in range(2):
            order = await api.create_order()
            line = order["lines"][0]["id"]
            amended = await api.amend(order, {"op": "set_quantity", "line_id": line, "quantity": 2})
            assert amended.status_code == 200, amended.text
            orders.append(amended.json())
    engine = create_engine(settings)
    try:
        yield Relay(settings, engine), orders
    finally:
        await engine.dispose()


async def test_an_amendment_s_message_in_few_statements_each_compiled_once(
    relay: tuple[Relay, list[dict[str, Any]]],
) -> None:
    """Both handlers for two amendments' messages: the second message's statements are counted, and none of them
    is compiled again (SQLAlchemy's cache). The message is queued, then sent, once; a second run of either row
    (a lease lost mid-run) does nothing."""
    runner, orders = relay
    made = await runner.rows(AMENDED_TOPIC)
    assert [r.key for r in made] == [f"amended:{o['id']}:v2" for o in orders]
    with clock.pinned(clock.next_local(datetime.time(10, 0), ZoneInfo("Asia/Ho_Chi_Minh"))):
        amended = runner.handlers[AMENDED_TOPIC]
        assert (await runner.counted.run(amended, made[0]))[0] == "queued"
        runner.counted.compiled.clear()
        outcome, seen = await runner.counted.run(amended, made[1])
        assert outcome == "queued"
        assert len(seen) <= MAX_AMENDED, f"{len(seen)}\n{_show(seen)}"
        assert seen[-1] == "COMMIT" and "ROLLBACK" not in seen, _show(seen)
        # Her profile read once, with her phone and her erasure: no second read of either.
        assert len([s for s in seen if "FROM customers" in s]) == 1, _show(seen)
        assert not [s for s in seen if s.startswith("SELECT customer_phones")], _show(seen)
        assert not [s for s in seen if "SAVEPOINT" in s or s.startswith("SELECT notifications")], _show(seen)
        assert runner.counted.compiled == [], "\n".join(runner.counted.compiled)
        assert (await runner.counted.run(amended, made[1]))[0] == "already queued"

        sends = await runner.rows(TOPIC)
        assert len(sends) == 2
        notify = runner.handlers[TOPIC]
        assert (await runner.counted.run(notify, sends[0]))[0] == "sent"
        runner.counted.compiled.clear()  # the first send compiled the gate's statements: the second may not
        outcome, seen = await runner.counted.run(notify, sends[1])
        assert outcome == "sent"
        assert len(seen) <= MAX_SEND, f"{len(seen)}\n{_show(seen)}"
        assert seen.count("COMMIT") == 2 and "ROLLBACK" not in seen, _show(seen)  # decided, then recorded
        assert not [s for s in seen if s.startswith(("SELECT notification_consents", "SELECT unsubscribe"))]
        recorded = seen[seen.index("COMMIT") + 1 :]
        assert [s.split()[0] for s in recorded] == ["BEGIN", "UPDATE", "COMMIT"], _show(recorded)
        assert runner.counted.compiled == [], "\n".join(runner.counted.compiled)
        assert (await runner.counted.run(notify, sends[1]))[0] == "nothing to do"
    message = await runner.message(made[1].key)
    order = orders[1]
    assert (message.status, message.to, message.attempts) == ("sent", order["recipient"]["phones"][0], 1)
    assert message.template == "order_amended" and "930.000 ₫" in message.body and "480.000 ₫" in message.body
    assert message.customer_id is not None and str(message.customer_id) == order["customer_id"]


async def test_the_handlers_leave_the_orm_nothing_to_track(relay: tuple[Relay, list[dict[str, Any]]]) -> None:
    """Their writes (the message, its outbox row, the attempt counted, the outcome) are statements of their own,
    not objects the ORM's flush compares and sorts (before: the outbox row at make_amended_message's commit, the
    attempt at send_notification's decision); what they read are plain values, not objects for its identity map
    (before: the customer with her phones, the message), and the message is inserted from its columns, with no
    object built for it. What they write is the same."""
    runner, orders = relay
    flushes: list[int] = []
    loaded: list[object] = []

    def flushed(session: Session, *_: Any) -> None:
        flushes.append(len(session.dirty) + len(session.new) + len(session.deleted))

    def load(target: object, *_: Any) -> None:
        loaded.append(target)

    made = (await runner.rows(AMENDED_TOPIC))[0]
    event.listen(Session, "before_flush", flushed)
    for model in (Notification, Customer):
        event.listen(model, "load", load)
    event.listen(Notification, "init", load)
    try:
        assert await runner.handlers[AMENDED_TOPIC](made) == "queued"
        sends = await runner.rows(TOPIC)
        assert await runner.handlers[TOPIC](sends[0]) == "sent"
    finally:
        event.remove(Session, "before_flush", flushed)
        for model in (Notification, Customer):
            event.remove(model, "load", load)
        event.remove(Notification, "init", load)
    assert loaded == []
    assert flushes == []
    assert [(r.key, r.payload, r.processed_at, r.attempts) for r in sends] == [
        (sends[0].payload["notification_id"], sends[0].payload, None, 0)
    ]
    message = await runner.message(made.key)
    assert str(message.id) == sends[0].key and (message.status, message.attempts) == ("sent", 1)
    assert message.to == orders[0]["recipient"]["phones"][0] and message.sent_at is not None


async def test_on_sqlite_their_writes_go_with_the_commit(
    relay: tuple[Relay, list[dict[str, Any]]], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trips to aiosqlite's thread (db/sqlite_trips.py): make_amended_message 3 (BEGIN with her read, the
    message's INSERT, its outbox row with the COMMIT), send_notification 3 (BEGIN with the message's read, the
    attempt with the COMMIT; then BEGIN, the outcome and the COMMIT in one). Before: 4 and 5."""
    if not settings.is_sqlite:
        pytest.skip("SQLite's driver")
    runner, _ = relay
    trips: list[int] = [0]
    original = aiosqlite.Connection._execute

    async def counted(connection: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips[0] += 1
        return await original(connection, fn, *args, **kwargs)

    made = await runner.rows(AMENDED_TOPIC)
    assert await runner.handlers[AMENDED_TOPIC](made[0]) == "queued"  # the pool's connection is made
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    assert await runner.handlers[AMENDED_TOPIC](made[1]) == "queued"
    assert trips == [3]
    sends = await runner.rows(TOPIC)
    trips[0] = 0
    assert await runner.handlers[TOPIC](sends[1]) == "sent"
    assert trips == [3]
    monkeypatch.undo()
    message = await runner.message(made[1].key)
    assert (message.status, message.attempts, message.provider) == ("sent", 1, "log")


async def test_their_statements_are_built_once_per_process(
    relay: tuple[Relay, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement built once keeps its cache key; one built per message has it worked out again each time (its
    whole tree walked) before the cache is even asked. After a first message, neither handler builds one. Before:
    a send built four (the message's read, her consents, her opt-out, the outcome's UPDATE), then two (the
    decision's UPDATE and the outcome's, with its CASE)."""
    runner, _ = relay
    worked_out: list[str] = []
    real = HasCacheKey._generate_cache_key

    def counted(self: HasCacheKey) -> Any:
        worked_out.append(" ".join(str(self).split())[:100])
        return real(self)

    made = await runner.rows(AMENDED_TOPIC)
    assert await runner.handlers[AMENDED_TOPIC](made[0]) == "queued"
    first = (await runner.rows(TOPIC))[0]
    assert await runner.handlers[TOPIC](first) == "sent"
    with monkeypatch.context() as patched:
        patched.setattr(HasCacheKey, "_generate_cache_key", counted)
        assert await runner.handlers[AMENDED_TOPIC](made[1]) == "queued"
    second = next(r for r in await runner.rows(TOPIC) if r.key != first.key)
    with monkeypatch.context() as patched:
        patched.setattr(HasCacheKey, "_generate_cache_key", counted)
        assert await runner.handlers[TOPIC](second) == "sent"
    assert worked_out == [], "\n".join(worked_out)


async def test_a_birthday_message_reads_her_as_the_others_do(relay: tuple[Relay, list[dict[str, Any]]]) -> None:
    """Birthday messages take her name and first phone from the same locked read (queue.locked_recipient), once
    a year, and an erased customer gets none."""
    runner, orders = relay
    now = clock.next_local(datetime.time(10, 0), ZoneInfo("Asia/Ho_Chi_Minh"))
    today = now.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    async with runner.db() as session, session.begin():
        for order, erased in zip(orders, (None, now), strict=True):
            await session.execute(
                update(Customer)
                .where(Customer.id == order["customer_id"])
                .values(birthday=today.replace(year=1990), erased_at=erased)
            )
    assert await queue_birthdays(runner.db, now) == 1
    assert await queue_birthdays(runner.db, now) == 0
    message = await runner.message(f"birthday:{orders[0]['customer_id']}:{today.year}")
    phone = orders[0]["recipient"]["phones"][0]
    assert (message.template, message.to, message.purpose) == ("birthday", phone, "marketing")
    assert message.unsubscribe_url is not None and message.unsubscribe_url in message.body
    async with runner.db() as session:
        erased = await session.scalar(
            select(Notification).where(Notification.dedupe_key == f"birthday:{orders[1]['customer_id']}:{today.year}")
        )
    assert erased is None
