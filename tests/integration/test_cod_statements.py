"""COD statements through HTTP, on SQLite and PostgreSQL: rows matched, mismatched (explained from the order's
events) or unknown; the same statement imported twice; GHN's, GHTK's and our own CSV; bad input; the dashboard page."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.db.engine import create_engine
from orders_service.db.models import Order, Shipment
from orders_service.infra import clock
from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping, eventually
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import Dashboard, signed_in, unprocessed

pytestmark = pytest.mark.anyio
SAMPLES = Path(__file__).parent / "cod_samples"
PATH = "/api/cod-statements"
NOW = datetime.datetime(2026, 12, 1, 3, 0, tzinfo=datetime.UTC)


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


@pytest.fixture
def shipping(api: Api) -> Shipping:
    return Shipping(api)


async def delivered_at(
    settings: Settings, order: dict[str, Any], courier: str, tracking: str, at: datetime.datetime
) -> None:
    """The order delivered by `courier` under `tracking`, as its webhook would leave it (GHN and GHTK have no fake
    here: the statement is what is tested, not their adapters)."""
    await eventually(lambda: unprocessed(settings, order))
    engine = create_engine(settings, poolclass=NullPool)
    order_id = uuid.UUID(order["id"])
    try:
        async with AsyncSession(engine) as session, session.begin():
            session.add(
                Shipment(
                    order_id=order_id,
                    courier=courier,
                    client_code=order["code"],
                    tracking_code=tracking,
                    status="delivered",
                    status_at=at,
                    sync_state="synced",
                    synced_version=order["version"],
                    cod_amount=order["cod_amount"],
                )
            )
            await session.execute(update(Order).where(Order.id == order_id).values(status="delivered", courier=courier))
    finally:
        await engine.dispose()


async def post_json(api: Api, courier: str, *rows: tuple[str, int, int], **extra: Any) -> httpx.Response:
    body = {"courier": courier, "rows": [{"tracking_code": t, "cod_collected": c, "fee": f} for t, c, f in rows]}
    return await api.request("POST", PATH, json={**body, **extra})


async def post_csv(api: Api, text: str, name: str = "statement.csv", **fields: str) -> httpx.Response:
    files = {"file": (name, text.encode(), "text/csv")}
    return await api.request("POST", PATH, files=files, data=fields)


def by_code(statement: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["tracking_code"]: row for row in statement["rows"]}


async def test_rows_are_matched_mismatched_or_unknown_and_a_mismatch_is_explained_from_the_events(
    api: Api, shipping: Shipping
) -> None:
    kept = await shipping.ship(await api.create_order())
    changed = await shipping.ship(await api.create_order())
    acknowledged, old_cod = changed["version"], changed["cod_amount"]
    api.sandbox.fail_next(1, status_code=422)  # the courier refuses the COD change: it keeps what it acknowledged
    amended = (await api.amend(changed, {"op": "add_payment", "amount": 130_000})).json()
    new_cod = amended["cod_amount"]
    assert new_cod == old_cod - 130_000

    async def refused() -> bool:
        return (await shipping.order(changed["id"]))["shipment"]["sync_state"] == "sync_failed"

    await eventually(refused)
    codes = {o["id"]: (await shipping.order(o["id"]))["shipment"]["tracking_code"] for o in (kept, changed)}
    for code in codes.values():
        await shipping.courier_event(code, "delivered")

    answer = await post_json(
        api,
        "sandbox",
        (codes[kept["id"]], kept["cod_amount"], 15_000),
        (codes[changed["id"]], old_cod, 15_000),
        ("SBX-NOBODY", 99_000, 15_000),
    )
    assert answer.status_code == 201, answer.text
    statement = answer.json()
    assert answer.headers["location"] == f"{PATH}/{statement['id']}"
    rows = by_code(statement)
    matched, mismatch, unknown = rows[codes[kept["id"]]], rows[codes[changed["id"]]], rows["SBX-NOBODY"]
    assert (matched["status"], matched["expected"], matched["order_id"]) == ("matched", kept["cod_amount"], kept["id"])
    assert "explanation" not in matched
    assert (mismatch["status"], mismatch["expected"], mismatch["order_id"]) == ("mismatch", new_cod, changed["id"])
    why = mismatch["explanation"]
    assert f"COD changed to {new_cod:,} ₫ at v{amended['version']} (amended)" in why
    assert f"the courier acknowledged v{acknowledged} with {old_cod:,} ₫" in why
    assert f"collected {old_cod:,} ₫, 130,000 ₫ more than the {new_cod:,} ₫ due" in why
    assert unknown["status"] == "unknown" and "order_id" not in unknown and "expected" not in unknown
    totals = statement["totals"]
    assert (totals["rows"], totals["matched"]["rows"], totals["mismatch"]["rows"], totals["unknown"]["rows"]) == (
        3,
        1,
        1,
        1,
    )
    assert totals["cod_collected"] == kept["cod_amount"] + old_cod + 99_000
    assert totals["fee"] == 45_000 and totals["payout"] == totals["cod_collected"] - 45_000
    assert totals["expected"] == kept["cod_amount"] + new_cod
    assert totals["difference"] == 130_000
    again = await api.request("GET", f"{PATH}/{statement['id']}")
    assert again.status_code == 200 and again.json() == statement


async def test_the_same_statement_twice_changes_nothing_and_a_parcel_is_counted_once(
    api: Api, settings: Settings
) -> None:
    order = await api.create_order()
    await delivered_at(settings, order, "ghn", "GHNONE01", NOW)
    row = ("GHNONE01", order["cod_amount"], 22_000)
    first = await post_json(api, "ghn", row, ("GHNOTHER", 10_000, 0))
    assert first.status_code == 201, first.text
    # The same parcels and amounts, in another order and another shape (our CSV): the first import, unchanged.
    text = f"tracking_code,cod_collected,fee\nGHNOTHER,10000,0\nGHNONE01,{order['cod_amount']},22000\n"
    for again in (await post_json(api, "ghn", row, ("GHNOTHER", 10_000, 0)), await post_csv(api, text, courier="ghn")):
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
    listed = (await api.request("GET", PATH)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == first.json()["id"]
    # A later statement listing the same parcel again: shown, flagged, not counted twice.
    later = await post_json(api, "ghn", row, ("GHNTWO02", 5_000, 1_000), reference="PHIEN-2026-12-02")
    assert later.status_code == 201, later.text
    repeated = by_code(later.json())["GHNONE01"]
    assert repeated["status"] == "matched" and repeated["already_on"] == first.json()["id"]
    totals = later.json()["totals"]
    assert (totals["rows"], totals["already_reconciled"], totals["cod_collected"], totals["fee"]) == (
        2,
        1,
        5_000,
        1_000,
    )
    # Its reference names it: other rows under the same reference are refused, naming the field.
    reused = await post_json(api, "ghn", ("GHNTHREE", 1, 0), reference="PHIEN-2026-12-02")
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "reference"
    assert (await api.request("GET", PATH, params={"courier": "ghn", "limit": 1})).json()["total"] == 2


async def test_ghn_and_ghtk_exports_are_told_apart_by_their_header(api: Api, settings: Settings) -> None:
    ghn_order, ghtk_order = await api.create_order(), await api.create_order()
    assert ghn_order["cod_amount"] == ghtk_order["cod_amount"] == 480_000  # the samples' amount
    await delivered_at(settings, ghn_order, "ghn", "G8ADKBRF", NOW)
    await delivered_at(settings, ghtk_order, "ghtk", "S22749126.SGP39-J31.1375835526", NOW)

    ghn = await post_csv(api, (SAMPLES / "ghn_statement.csv").read_text(encoding="utf-8"))
    assert ghn.status_code == 201, ghn.text
    assert (ghn.json()["courier"], ghn.json()["source"]) == ("ghn", "ghn")
    rows = by_code(ghn.json())
    assert list(rows) == ["G8ADKBRF", "G8ADKBYD"]  # the blank and the total lines are not parcels
    assert (rows["G8ADKBRF"]["status"], rows["G8ADKBRF"]["fee"]) == ("matched", 22_000)
    assert (rows["G8ADKBYD"]["status"], rows["G8ADKBYD"]["cod_collected"], rows["G8ADKBYD"]["fee"]) == (
        "unknown",
        350_000,
        18_500,
    )
    # GHTK's, sent as the body itself; semicolons, as Excel writes them in a Vietnamese locale.
    body = (SAMPLES / "ghtk_statement.csv").read_bytes()
    ghtk = await api.request("POST", PATH, content=body, headers={"Content-Type": "text/csv"})
    assert ghtk.status_code == 201, ghtk.text
    assert (ghtk.json()["courier"], ghtk.json()["source"]) == ("ghtk", "ghtk")
    assert [r["status"] for r in ghtk.json()["rows"]] == ["matched", "unknown"]
    # A GHN file said to be GHTK's is refused, naming the courier.
    wrong = await post_csv(api, (SAMPLES / "ghn_statement.csv").read_text(encoding="utf-8"), courier="ghtk")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "courier"


async def test_our_own_csv_names_its_courier(api: Api, shipping: Shipping) -> None:
    order = await shipping.ship(await api.create_order())
    tracking = order["shipment"]["tracking_code"]
    await shipping.courier_event(tracking, "delivered")
    text = (SAMPLES / "ours_statement.csv").read_text(encoding="utf-8").replace("{tracking}", tracking)
    unnamed = await post_csv(api, text)
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "courier"
    named = await post_csv(api, text, courier="sandbox")
    assert named.status_code == 201, named.text
    assert [r["status"] for r in named.json()["rows"]] == ["matched", "unknown"]
    assert named.json()["source"] == "csv"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"courier": "dhl", "rows": [{"tracking_code": "A1", "cod_collected": 1, "fee": 0}]}, "courier"),
        ({"courier": "ghn", "rows": [{"tracking_code": "A1", "cod_collected": -1, "fee": 0}]}, "rows[0].cod_collected"),
        ({"courier": "ghn", "rows": [{"tracking_code": "A1", "cod_collected": 1, "fee": "2"}]}, "rows[0].fee"),
        ({"courier": "ghn", "rows": [{"tracking_code": "A 1", "cod_collected": 1, "fee": 0}]}, "rows[0].tracking_code"),
        ({"courier": "ghn", "rows": []}, "rows"),
        ({"courier": "ghn"}, "rows"),
    ],
)
async def test_bad_json_is_a_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    answer = await api.request("POST", PATH, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == field
    assert (await api.request("GET", PATH)).json()["total"] == 0


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("tracking_code,cod_collected,fee\nA1,-5000,0\n", "line 2, cod_collected", "negative"),
        ("tracking_code,cod_collected,fee\nA1,12.5,0\n", "line 2, cod_collected", "whole amount"),
        ("tracking_code,cod_collected,fee\nA1,1000,0\nA2,1000\n", "line 3", "2 cells"),
        ('tracking_code,cod_collected,fee\nA1,"1000,0\n', "line 2", "CSV"),
        ("Mã đơn,Số tiền\nA1,1000\n", "file", "header"),
        ("", "file", "empty"),
        ("Mã đơn GHN,Tiền thu hộ,Tổng phí\n", "file", "no parcel"),
    ],
)
async def test_bad_csv_is_a_422_naming_the_line(api: Api, text: str, field: str, words: str) -> None:
    answer = await post_csv(api, text, courier="ghn")
    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert error["field"] == field and words in error["message"]


async def test_a_form_without_a_file_and_a_body_that_is_not_json(api: Api) -> None:
    no_file = await api.request("POST", PATH, data={"courier": "ghn"})
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["field"] == "file"
    latin1 = await api.request(
        "POST", PATH, content="Mã,x\n".encode("latin-1", "replace"), headers={"Content-Type": "text/csv"}
    )
    assert latin1.status_code == 422 and latin1.json()["errors"][0]["field"] == "file"
    broken = await api.request("POST", PATH, content=b'{"courier": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["errors"][0]["field"] == "body"
    assert (await api.request("GET", f"{PATH}/{uuid.uuid4()}")).status_code == 404


@pytest.fixture
async def staff(settings: Settings, client: httpx.AsyncClient) -> Dashboard:
    return await signed_in(settings, client, "lan", "staff")


async def test_the_dashboard_lists_statements_mismatches_first_and_the_orders_no_statement_listed(
    api: Api, settings: Settings, staff: Dashboard
) -> None:
    old, recent, listed = await api.create_order(), await api.create_order(), await api.create_order()
    days = settings.cod_statement_days
    await delivered_at(settings, old, "ghn", "GHNOLD001", NOW - datetime.timedelta(days=days + 3))
    await delivered_at(settings, recent, "ghn", "GHNNEW001", NOW - datetime.timedelta(days=days - 1))
    await delivered_at(settings, listed, "ghtk", "S1.LISTED.1", NOW - datetime.timedelta(days=days + 3))
    clean = await post_json(api, "ghtk", ("S1.LISTED.1", listed["cod_amount"], 30_000))
    off = await post_json(api, "ghn", ("GHNNEW001", recent["cod_amount"] + 20_000, 22_000))
    assert clean.status_code == off.status_code == 201
    with clock.pinned(NOW):
        page = await staff.get("/dashboard/cod")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'href="/dashboard/cod"' in html  # the nav links it
    statements = html[html.index('id="statements"') : html.index('id="not-on-statement"')]
    # The statement with a mismatch comes first, though it is not the oldest.
    assert statements.index(off.json()["id"]) < statements.index(clean.json()["id"])
    queue = html[html.index('id="not-on-statement"') :]
    assert old["code"] in queue and recent["code"] not in queue and listed["code"] not in queue
    assert "Đã giao quá" in queue
    one = await staff.get(f"/dashboard/cod/{off.json()['id']}")
    assert one.status_code == 200
    assert "Lệch" in one.text and "nhiều hơn 20.000 ₫" in one.text and recent["code"] in one.text  # the why, in words
    assert (await staff.get(f"/dashboard/cod/{uuid.uuid4()}")).status_code == 404
