"""What the hot paths other than amendments ask of the database, counted (never timed), on SQLite and PostgreSQL:
order create, ship (in test_ship_statements.py, with these fixtures), the courier webhook (picked, delivered), the
customer page and the dashboard order list. bench/hotpaths_bench.py measures their rates; these pin the
statements that rate depends on."""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import event, select, update
from sqlalchemy.engine.default import CACHE_HIT
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool
from standardwebhooks import Webhook

from orders_service.app import create_app
from orders_service.db.engine import create_engine
from orders_service.db.models import OutboxMessage, Shipment
from orders_service.infra import i18n
from orders_service.infra.runtime import session_info
from orders_service.infra.settings import Settings
from orders_service.links import services as link_services
from orders_service.links.rules import Variant
from orders_service.messaging.triggers import AMENDED_TOPIC, make_amended_message
from tests.integration.api import Api, order_payload
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import seed_orders, signed_in
from tests.integration.test_amend_statements import Statements

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


class Paths:
    """The app without its relay (whose statements would mix with the request's), and a statement counter."""

    def __init__(self, api: Api, statements: Statements, settings: Settings) -> None:
        self.api, self.statements, self.settings = api, statements, settings

    async def counted(self, method: str, path: str, **kwargs: Any) -> tuple[Any, list[str]]:
        self.statements.seen.clear()
        self.statements.on = True
        try:
            response = await self.api.client.request(method, path, **kwargs)
        finally:
            self.statements.on = False
        assert response.status_code < 300, response.text
        return response, list(self.statements.seen)

    async def shipped(self) -> dict[str, Any]:
        """A shipped order whose parcel has a tracking code (the relay that would ask the courier is off)."""
        order = await self.api.create_order()
        path = f"/api/orders/{order['id']}"
        confirmed = await self.api.request("POST", f"{path}/confirm", headers={"If-Match": f'"{order["version"]}"'})
        version = confirmed.json()["version"]
        shipped = await self.api.request("POST", f"{path}/ship", headers={"If-Match": f'"{version}"'})
        assert shipped.status_code == 200, shipped.text
        engine = create_engine(self.settings, poolclass=NullPool)
        try:
            async with AsyncSession(engine) as session, session.begin():
                code = "HB" + order["code"]
                await session.execute(update(Shipment).where(Shipment.client_code == order["code"]).values(
                    tracking_code=code
                ))  # fmt: skip
        finally:
            await engine.dispose()
        return shipped.json() | {"tracking_code": code}

    def webhook(self, order: dict[str, Any], status: str, seq: int) -> dict[str, Any]:
        message_id = f"msg_{status}_{order['code']}"
        at = datetime.datetime.now(datetime.UTC)
        body = {"id": message_id, "type": "shipment.status", "tracking_code": order["tracking_code"],
                "client_code": order["code"], "status": status, "occurred_at": at.isoformat(), "seq": seq}  # fmt: skip
        content = json.dumps(body)
        secret = self.api.sandbox.config.webhook_secret
        headers = {"content-type": "application/json", "webhook-id": message_id,
                   "webhook-timestamp": str(int(at.timestamp())),
                   "webhook-signature": Webhook(secret).sign(message_id, at, content)}  # fmt: skip
        return {"content": content.encode(), "headers": headers}


@pytest.fixture
async def paths(settings: Settings, keys: dict[str, str]) -> AsyncIterator[Paths]:
    app = create_app(msgspec.structs.replace(settings, relay="off"))
    async with AsyncTestClient(app=app, timeout=30) as client:
        api = Api(client, keys["staff"], keys["admin"], app)
        with Statements(app.state.runtime.engine) as statements:
            await api.create_order()  # warm: the API key is cached, the shop's settings read
            yield Paths(api, statements, settings)


# Neither the customer (with her phones and identities) nor her message is read or written in the request: the
# message is an outbox row the relay makes it from. Before: 22 statements for picked, 40 for delivered (the
# customer loaded twice, two messages rendered, each with its dedupe SELECT and SAVEPOINT).
IN_REQUEST_MESSAGE = (
    "notifications",
    "customer_phones",
    "customer_identities",
    "unsubscribe_tokens",
    "SAVEPOINT sa_savepoint_2",
)
# BEGIN, the inbox row (INSERT .. ON CONFLICT DO NOTHING), the order of the parcel with its lines, the locked
# parcel, UPDATE orders, INSERT order_events, INSERT outbox, UPDATE shipments, COMMIT. Before: 13, the inbox row
# in a SAVEPOINT (3 statements), the parcel's order id, then the order, then its lines.
MAX_PICKED = 9
# And the customer's lock, the points' idempotency SELECT, INSERT points_ledger, her tier and sums, the tier
# rows, and the two messages' outbox rows; and the kept numbers segments and the profile read: her stats row (one
# upsert for the completed order and its points entry; it was two) and her favourite sizes, colours and SKUs; and
# the stock it held, to sell what she kept (catalogue/stock.py; none here).
MAX_DELIVERED = 21  # 25 before the inbox row and the order's read were one statement each


def _show(seen: list[str]) -> str:
    return "\n".join(s[:200] for s in seen)


async def _outbox(settings: Settings, key: str) -> list[OutboxMessage]:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            return list(await session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)))
    finally:
        await engine.dispose()


async def test_a_courier_webhook_makes_no_message_in_the_request(paths: Paths) -> None:
    order = await paths.shipped()
    for status, seq, limit in (("picked", 1, MAX_PICKED), ("delivered", 2, MAX_DELIVERED)):
        response, seen = await paths.counted("POST", "/webhooks/couriers/sandbox", **paths.webhook(order, status, seq))
        assert response.json() == {"applied": 1}, response.text
        assert len(seen) <= limit, f"{status}: {len(seen)}\n{_show(seen)}"
        assert not [s for s in seen if any(word in s for word in IN_REQUEST_MESSAGE)], _show(seen)
        assert not [s for s in seen if s.startswith("SELECT customers.id AS")], _show(seen)
        # The parcel is read once, locked after the order (which is found by it: a subquery of its own read),
        # never a second time through the order's own load; the order with its lines in one statement.
        assert len([s for s in seen if s.startswith("SELECT shipments.")]) == 1, _show(seen)
        assert len([s for s in seen if s.startswith(("SELECT orders.", "SELECT order_lines."))]) == 1, _show(seen)
        assert not [s for s in seen if "SAVEPOINT" in s], _show(seen)
        assert seen[-1] == "COMMIT" and "ROLLBACK" not in seen
        # Her kept numbers: one upsert for the completed order and its points entry together.
        stats = [s for s in seen if "customer_stats" in s]
        assert len(stats) == (1 if status == "delivered" else 0), _show(stats)


SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


class Compiled:
    """The statements SQLAlchemy compiled while `on` (not taken from its cache of compiled statements)."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.found, self.on = engine, [], False

    def __enter__(self) -> Compiled:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        compiled = self.on and context is not None and context.compiled is not None
        # A SAVEPOINT is compiled from its name alone: nothing to cache.
        if compiled and context.cache_hit is not CACHE_HIT and not statement.startswith(SAVEPOINTS):
            self.found.append(f"{context.cache_hit}: {' '.join(statement.split())[:90]}")


async def test_the_hot_paths_compile_nothing_the_first_round_did_not(paths: Paths, settings: Settings) -> None:
    """A second round of every hot path (create, amend, ship, the courier's picked and delivered, the customer
    page, the dashboard list) runs SQLAlchemy's cached compiled statements only. Before: ON CONFLICT statements
    (never cached by SQLAlchemy) were compiled on every webhook, three times on a delivered one, about 2 ms of
    CPU each on PostgreSQL."""
    dashboard = await signed_in(settings, paths.api.client, "lister", "staff")

    async def every_path() -> None:
        created = await paths.api.create_order()
        line = created["lines"][0]["id"]
        amended = await paths.api.amend(created, {"op": "set_quantity", "line_id": line, "quantity": 2})
        assert amended.status_code == 200, amended.text
        link = await paths.api.request("POST", f"/api/orders/{created['id']}/edit-link")
        token = httpx.URL(link.json()["url"]).path.removeprefix("/o/")
        for path in (f"/o/{token}", f"/api/public/orders/{token}"):
            assert (await paths.api.client.get(path)).status_code == 200
        order = await paths.shipped()
        for status, seq in (("picked", 1), ("delivered", 2)):
            hook = paths.webhook(order, status, seq)
            response = await paths.api.client.post("/webhooks/couriers/sandbox", **hook)
            assert response.json() == {"applied": 1}, response.text
        assert (await dashboard.get("/dashboard/orders")).status_code == 200

    with Compiled(paths.statements.engine) as compiled:
        await every_path()
        compiled.on = True
        await every_path()
    assert compiled.found == [], "\n".join(compiled.found)


async def test_the_webhook_messages_come_through_the_outbox_once(paths: Paths, settings: Settings) -> None:
    order = await paths.shipped()
    for status, seq in (("picked", 1), ("delivered", 2)):
        response = await paths.api.client.post("/webhooks/couriers/sandbox", **paths.webhook(order, status, seq))
        assert response.json() == {"applied": 1}, response.text
    shipped, delivered = (
        await _outbox(settings, f"shipped:{order['id']}"),
        await _outbox(settings, f"delivered:{order['id']}"),
    )
    assert [(r.topic, r.payload["template"]) for r in shipped + delivered] == [
        (AMENDED_TOPIC, "shipped"),
        (AMENDED_TOPIC, "delivered"),
    ]
    assert delivered[0].payload["params"] == {"code": order["code"], "amount": 450000, "points": 45}
    assert shipped[0].payload["params"]["tracking_code"] == order["tracking_code"]
    # The relay makes each message once, however often it runs the row (a lease lost mid-run).
    engine = create_engine(settings, poolclass=NullPool)
    try:
        db = async_sessionmaker(engine, info=session_info(settings))
        for row in shipped + delivered:
            assert await make_amended_message(db, row.key, row.payload) == "queued"
            assert await make_amended_message(db, row.key, row.payload) == "already queued"
    finally:
        await engine.dispose()
    listed = await paths.api.request("GET", "/api/notifications", params={"order_id": order["id"]})
    made = {m["template"]: m for m in listed.json()["items"]}
    assert {"shipped", "delivered"} <= set(made), made
    assert made["delivered"]["to"] == order["recipient"]["phones"][0]
    # A repeated delivered report is a duplicate in the inbox: no second row, so no second message or points.
    again = await paths.api.client.post("/webhooks/couriers/sandbox", **paths.webhook(order, "delivered", 2))
    assert again.json() == {"duplicate": 1}
    assert len(await _outbox(settings, f"delivered:{order['id']}")) == 1


# BEGIN, her phones (twice: found, then made), the customer and her phone, her tier (the discount), the order,
# its lines, its event, its outbox row, COMMIT. Before: 15 (an UPDATE of last_seq after the INSERT, the shipment
# refreshed in two SELECTs, the merged-from query for an order nothing could have been merged into). And the
# catalogue's variants of its SKUs, read once for prices, weights and reservations (none here).
MAX_CREATE = 11  # 12 before her phones were asked once


async def test_an_order_is_created_in_one_flush(paths: Paths) -> None:
    response, seen = await paths.counted("POST", "/api/orders", json=order_payload(), headers=paths.api.headers())
    assert len(seen) <= MAX_CREATE, f"{len(seen)}\n{_show(seen)}"
    assert not [s for s in seen if s.startswith(("UPDATE", "SELECT orders", "SELECT shipments"))], _show(seen)
    assert seen[-1] == "COMMIT" and "ROLLBACK" not in seen
    created = response.json()
    assert (created["version"], created["shipment"], created["merged_from"]) == (1, None, [])
    events = await paths.api.request("GET", f"/api/orders/{created['id']}/events")
    assert [(e["type"], e["seq"]) for e in events.json()] == [("created", 1)], events.text


# The list shows the summary's columns (her name and the courier sync's state joined in): BEGIN, the SELECT of
# them, the COUNT, COMMIT. Before: the COUNT, the whole orders, their shipments and parcels (two selectin
# loads), and the customers' names: 5 statements.
async def test_the_dashboard_list_reads_its_page_in_one_select(paths: Paths, settings: Settings) -> None:
    dashboard = await signed_in(settings, paths.api.client, "lister", "staff")
    await seed_orders(settings, 11)  # and the fixture's own: 12
    for per_page, count in ((20, False), (10, True)):
        await dashboard.get("/dashboard/orders")  # her session is cached now: its lookup left out
        paths.statements.seen.clear()
        paths.statements.on = True
        try:
            page = await dashboard.get("/dashboard/orders", params={"per_page": per_page})
        finally:
            paths.statements.on = False
        seen = [s for s in paths.statements.seen if "staff_sessions" not in s]
        assert page.status_code == 200, page.text
        reads = [s for s in seen if s.startswith("SELECT")]
        # A first page shorter than a page is every match: no COUNT. A later one counts.
        assert len(reads) == (2 if count else 1), _show(seen)
        assert not [s for s in reads if any(t in s for t in ("FROM shipments", "FROM order_parcels", "FROM customers"))]
        assert page.text.count('<a href="/dashboard/orders/') == min(per_page, 12) and "(12)" in page.text, page.text
    past = await dashboard.get("/dashboard/orders", params={"per_page": 10, "page": 3})  # past the end: counted
    assert past.text.count('<a href="/dashboard/orders/') == 0 and "(12)" in past.text, past.text


async def test_the_dashboard_list_translates_its_column_names_once_a_page(
    paths: Paths, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row repeats the column names for phones (data-label): translated once for the page, not per row
    (before: four lookups per row through Jinja's i18n call, about half of the list's CPU)."""
    dashboard = await signed_in(settings, paths.api.client, "lister", "staff")
    await seed_orders(settings, 11)  # and the fixture's own: 12
    asked: list[str] = []
    real = i18n.gettext

    def counted(message: str, language: str | None = None, domain: str = i18n.DASHBOARD) -> str:
        asked.append(message)
        return real(message, language, domain)

    monkeypatch.setattr(i18n, "gettext", counted)
    page = await dashboard.get("/dashboard/orders", params={"per_page": 20, "lang": "en"})
    assert page.status_code == 200, page.text
    assert page.text.count('data-label="Cash on delivery (COD)"') == 12, page.text
    assert asked.count("Thu hộ (COD)") <= 2 and asked.count("Mã đơn") <= 2, asked


async def test_the_customer_page_gets_each_recent_variant_once(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sizes and colours on offer come from the recent lines of the same SKU: the database folds them into
    the distinct variants. Before: every line scanned (up to 500) was sent and made a Variant here."""
    line = {"sku": "DRESS-01", "name": "Đầm hoa", "size": "L", "color": "red", "quantity": 1}
    for price in (460000, 470000):  # the newest price of a size and colour is the one offered
        for _ in range(3):
            await paths.api.create_order(lines=[line | {"unit_price": price}])
    order = await paths.api.create_order()  # size M
    link = await paths.api.request("POST", f"/api/orders/{order['id']}/edit-link")
    token = httpx.URL(link.json()["url"]).path.removeprefix("/o/")
    made: list[Variant] = []

    class Counted(Variant, frozen=True):
        def __post_init__(self) -> None:
            made.append(self)

    monkeypatch.setattr(link_services, "Variant", Counted)
    answer = await paths.api.client.get(f"/api/public/orders/{token}")
    assert answer.status_code == 200, answer.text
    offered = [(v["size"], v["color"], v["unit_price"]) for v in answer.json()["lines"][0]["variants"]]
    assert offered == [("M", "red", 450000), ("L", "red", 470000)]
    # M at 450,000 (the fixture's first order and this one) and L at two prices: three, not eight lines.
    assert len(made) == 3, made


async def test_the_customer_page_of_skus_the_catalogue_does_not_sell_asks_it_nothing(paths: Paths) -> None:
    """Whether the catalogue sells any of the order's SKUs comes with the order's own read: when it sells none,
    neither the page nor its API reads the catalogue's variants (before: one SELECT of them per page)."""
    order = await paths.api.create_order()  # DRESS-01: the catalogue is empty
    link = await paths.api.request("POST", f"/api/orders/{order['id']}/edit-link")
    token = httpx.URL(link.json()["url"]).path.removeprefix("/o/")
    for path in (f"/api/public/orders/{token}", f"/o/{token}"):
        answer, seen = await paths.counted("GET", path)
        assert "M" in answer.text
        assert not [s for s in seen if "product_variants" in s], _show(seen)
    # A SKU the catalogue does sell is still offered from it, with its stock read fresh.
    variants = [{"size": "S", "color": "red", "price": 440000, "stock": 4}]
    made = await paths.api.request("POST", "/api/products", json={"sku": "DRESS-01", "name": "Đầm hoa",
        "weight_g": 300, "variants": variants})  # fmt: skip
    assert made.status_code == 201, made.text
    answer, seen = await paths.counted("GET", f"/api/public/orders/{token}")
    assert [s for s in seen if "product_variants" in s], _show(seen)
    assert ("S", 440000) in [(v["size"], v["unit_price"]) for v in answer.json()["lines"][0]["variants"]], answer.text


async def test_a_new_customer_s_phones_are_asked_once(paths: Paths) -> None:
    """Her phones are looked up once in the order's write transaction: found free, her profile is inserted
    without asking again (before: the same SELECT of customer_phones twice, and her phones normalised twice)."""
    _, seen = await paths.counted("POST", "/api/orders", json=order_payload(), headers=paths.api.headers())
    assert len([s for s in seen if s.startswith("SELECT customer_phones.")]) == 1, _show(seen)
    # Her next order finds her by that phone (and adds the new one to her profile).
    first = (await paths.api.request("GET", "/api/orders", params={"limit": 1})).json()["items"][0]
    phones = [*first["recipient"]["phones"], "0912345678"]
    again = await paths.api.request(
        "POST", "/api/orders", json=order_payload(customer={"full_name": "Lan", "phones": phones})
    )
    assert again.status_code == 201 and again.json()["customer_id"] == first["customer_id"], again.text


async def test_the_customer_page_reads_the_shop_s_settings_once(paths: Paths) -> None:
    """The shop (its name on the page) and its edit window (until when her changes come first) in one read of
    shop_settings; before: two, one per group."""
    order = await paths.api.create_order()
    link = await paths.api.request("POST", f"/api/orders/{order['id']}/edit-link")
    path = httpx.URL(link.json()["url"]).path
    response, seen = await paths.counted("GET", path)
    assert len([s for s in seen if "FROM shop_settings" in s]) == 1, _show(seen)
    assert order["code"] in response.text


async def test_the_dashboard_list_finds_its_language_once_per_page(
    paths: Paths, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each string the page translates (some 5 per order shown) used to work out the request's language again
    (its query, cookie and Accept-Language) and the template's domain: now once per render."""
    dashboard = await signed_in(settings, paths.api.client, "reader", "staff")
    await seed_orders(settings, 20)
    asked: list[object] = []
    real = i18n.language_of

    def counted(request: Any) -> str:
        asked.append(request)
        return real(request)

    monkeypatch.setattr(i18n, "language_of", counted)
    for lang, word in (("en", "Orders"), ("vi", "Đơn hàng")):
        asked.clear()
        page = await dashboard.get("/dashboard/orders", params={"lang": lang})
        assert page.status_code == 200 and f"<h1>{word}" in page.text, page.text
        assert len(asked) <= 5, len(asked)  # the middleware's and the render's own, not one per string
