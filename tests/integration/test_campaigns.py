"""Campaigns through HTTP and the relay: accepted at once (202), expanded in batches of ORDERS_CAMPAIGN_BATCH
(10 in the tests), progress visible, one message per member whatever is replayed, and a run that fails halfway
resumed without duplicates. On every engine: embedded on SQLite and PostgreSQL, and a Celery worker.

A failure halfway is a database trigger that refuses the message of the second batch's first member: the
batch's transaction rolls back as a crash would leave it, and the relay runs the campaign again.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.infra import clock
from orders_service.infra.settings import Settings
from tests.integration.api import Api, eventually, random_mobile
from tests.integration.conftest import VIETNAM

pytestmark = pytest.mark.anyio
BATCH = 10  # ORDERS_CAMPAIGN_BATCH in tests/integration/databases.py
MESSAGE = "Giảm 20% cuối tuần."


def this_month() -> str:
    """A birthday in this month of the shop's calendar, on the clock the segment reads (it may be pinned)."""
    return clock.now().astimezone(VIETNAM).date().replace(year=1995, day=1).isoformat()


async def customers(api: Api, count: int, *, consent: bool = True) -> list[str]:
    """`count` customers born this month (segment birthday_this_month), with SMS marketing consent or none."""
    made = []
    for n in range(count):
        body = {"full_name": f"Khách {n}", "phones": [random_mobile()], "birthday": this_month()}
        response = await api.request("POST", "/api/customers", json=body)
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
        if consent:
            granted = await api.request(
                "POST",
                f"/api/customers/{made[-1]}/consents",
                json={"consents": [{"channel": "sms", "purpose": "marketing", "state": "granted"}]},
            )
            assert granted.status_code == 200, granted.text
    return made


async def send(api: Api, key: str, **body: Any) -> Any:
    body = {"segment": "birthday_this_month", "template": "promotion", "message": MESSAGE, "key": key, **body}
    return await api.request("POST", "/api/campaigns", json=body)


async def campaign(api: Api, key: str) -> dict[str, Any]:
    response = await api.request("GET", f"/api/campaigns/{key}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def finished(api: Api, key: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body = await campaign(api, key)
        return body if body["state"] in ("done", "failed") else None

    return await eventually(check, within_s=30)


async def messages_of(api: Api, key: str) -> dict[str, list[dict[str, Any]]]:
    """The campaign's messages per customer id."""
    found: dict[str, list[dict[str, Any]]] = {}
    offset = 0
    while True:
        response = await api.request("GET", "/api/notifications", params={"limit": "200", "offset": str(offset)})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        for item in items:
            if item["campaign"] == key:
                found.setdefault(item["customer_id"], []).append(item)
        if len(items) < 200:
            return found
        offset += 200


def held(message: dict[str, Any]) -> bool:
    """Held by quiet hours until the window opens."""
    return message["status"] == "queued" and message["deferred_until"] is not None


def on_its_way(message: dict[str, Any], time_of_day: str | None) -> bool:
    """Held by quiet hours inside them, sent outside them; either on an unpinned clock (the Celery worker's)."""
    if time_of_day is None:
        return message["status"] == "sent" or held(message)
    return held(message) if time_of_day == "quiet-hours" else message["status"] == "sent"


@contextlib.asynccontextmanager
async def refused(settings: Settings, dedupe_key: str) -> AsyncIterator[None]:
    """While the block runs, the database refuses to record the message with this dedupe key."""
    engine = create_engine(settings, poolclass=NullPool)  # our own: the app's pool lives on another loop
    sqlite = settings.is_sqlite
    arm = (
        [
            "CREATE TRIGGER campaign_fault BEFORE INSERT ON notifications "
            f"WHEN NEW.dedupe_key = '{dedupe_key}' BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        ]
        if sqlite
        else [
            "CREATE FUNCTION campaign_fault() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$ "
            "LANGUAGE plpgsql",
            "CREATE TRIGGER campaign_fault BEFORE INSERT ON notifications FOR EACH ROW "
            f"WHEN (NEW.dedupe_key = '{dedupe_key}') EXECUTE FUNCTION campaign_fault()",
        ]
    )
    disarm = (
        ["DROP TRIGGER IF EXISTS campaign_fault"]
        if sqlite
        else ["DROP TRIGGER IF EXISTS campaign_fault ON notifications", "DROP FUNCTION IF EXISTS campaign_fault()"]
    )
    try:
        async with engine.begin() as connection:
            for statement in arm:
                await connection.execute(text(statement))
        yield
    finally:
        async with engine.begin() as connection:
            for statement in disarm:
                await connection.execute(text(statement))
        await engine.dispose()


async def test_a_campaign_is_accepted_at_once_and_reaches_each_member_once(api: Api, time_of_day: str | None) -> None:
    members = await customers(api, 2 * BATCH + 5)
    silent = await customers(api, 2, consent=False)

    accepted = await send(api, "weekend-1")
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["Location"] == "/api/campaigns/weekend-1"
    body = accepted.json()
    assert (body["key"], body["segment"], body["message"], body["created_by"]) == (
        "weekend-1",
        "birthday_this_month",
        MESSAGE,
        "test-staff",
    )
    assert body["state"] in ("queued", "sending", "done")

    done = await finished(api, "weekend-1")
    assert done["state"] == "done" and done["last_error"] is None, done
    assert (done["recipients"], done["processed"]) == (len(members) + 2, len(members) + 2)
    assert (done["queued"], done["suppressed"], done["skipped"]) == (len(members), 2, 0)
    held_back = {"quiet-hours": (len(members),), "open-hours": (0,), None: (0, len(members))}[time_of_day]
    assert done["deferred"] in held_back  # quiet hours hold all of them, else none
    assert done["started_at"] is not None and done["finished_at"] is not None

    found = await messages_of(api, "weekend-1")
    assert sorted(found) == sorted(members + silent)
    assert all(len(mine) == 1 for mine in found.values())
    for customer_id in silent:
        assert found[customer_id][0]["status"] == "suppressed"
        assert found[customer_id][0]["reason"].startswith("no marketing consent")

    async def all_on_their_way() -> bool:
        latest = await messages_of(api, "weekend-1")
        return all(on_its_way(latest[c][0], time_of_day) for c in members)

    await eventually(all_on_their_way)
    first = found[members[0]][0]
    assert first["channel"] in ("sms", "zalo") and first["body"].startswith(f"[QC] Cửa hàng gửi Khách 0: {MESSAGE}")

    again = await send(api, "weekend-1")  # a retry of the same request: the campaign it started, nobody reached
    assert again.status_code == 200, again.text
    assert again.json()["key"] == "weekend-1" and again.json()["queued"] == len(members)
    assert (await finished(api, "weekend-1"))["processed"] == len(members) + 2
    assert all(len(mine) == 1 for mine in (await messages_of(api, "weekend-1")).values())

    for field, change in (("message", {"message": "Giảm 30%."}), ("segment", {"segment": "vip"})):
        reused = await send(api, "weekend-1", **change)
        assert reused.status_code == 422, reused.text
        assert reused.json()["errors"][0]["field"] == field, reused.text

    listed = await api.request("GET", "/api/campaigns", params={"limit": "5"})
    assert listed.status_code == 200, listed.text
    assert [c["key"] for c in listed.json()["items"]] == ["weekend-1"] and listed.json()["total"] == 1
    missing = await api.request("GET", "/api/campaigns/no-such-campaign")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    bad = await api.request("GET", "/api/campaigns/bad key!")
    assert bad.status_code in (400, 422) and "key" in bad.text, bad.text


async def test_a_run_that_fails_halfway_resumes_where_it_stopped_and_keeps_its_members(
    api: Api, settings: Settings
) -> None:
    members = await customers(api, 2 * BATCH + 5)
    walk = sorted(members, key=UUID)  # the order the batches take them in
    key = "halfway"
    async with refused(settings, f"campaign:{key}:{walk[BATCH]}"):  # the second batch's first member
        accepted = await send(api, key)
        assert accepted.status_code == 202, accepted.text

        async def stuck() -> dict[str, Any] | None:
            body = await campaign(api, key)
            return body if body["last_error"] and "injected fault" in body["last_error"] else None

        halfway = await eventually(stuck)
        # Progress is visible: the first batch is done and counted, the second left nothing behind.
        assert (halfway["state"], halfway["recipients"], halfway["processed"]) == ("sending", len(members), BATCH)
        assert halfway["queued"] == BATCH
        found = await messages_of(api, key)
        assert sorted(found) == sorted(walk[:BATCH])
        # Someone born this month joins now: the campaign's members were fixed when it started.
        latecomer = (await customers(api, 1))[0]

    done = await finished(api, key)
    assert done["state"] == "done", done
    assert (done["recipients"], done["processed"], done["queued"], done["skipped"]) == (
        len(members),
        len(members),
        len(members),
        0,
    )
    found = await messages_of(api, key)
    assert sorted(found) == sorted(members) and latecomer not in found
    assert all(len(mine) == 1 for mine in found.values())


async def test_birthday_this_month_is_the_month_in_the_shop_not_in_utc(api: Api) -> None:
    """At 06:30 on the 1st in Vietnam it is still the last day of the month before in UTC."""
    today = clock.wall().astimezone(VIETNAM).date()
    first = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)  # the 1st of next month
    at = datetime.datetime.combine(first, datetime.time(6, 30), tzinfo=VIETNAM)
    born = {"this": first.replace(year=1995), "last": (first - datetime.timedelta(days=1)).replace(year=1995)}
    with clock.pinned(at):
        made = {}
        for name, birthday in born.items():
            body = {"full_name": f"Khách {name}", "phones": [random_mobile()], "birthday": birthday.isoformat()}
            response = await api.request("POST", "/api/customers", json=body)
            assert response.status_code == 201, response.text
            made[name] = response.json()["id"]
        listed = await api.request("GET", "/api/segments/birthday_this_month/customers")
    assert listed.status_code == 200, listed.text
    assert [c["id"] for c in listed.json()["items"]] == [made["this"]]
