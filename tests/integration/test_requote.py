"""A new address re-prices the parcel with the order's courier (the sandbox here): the fee moves by what the
courier now charges more or less, the COD follows, and the preview (dry run) shows it before anything is saved.
SQLite and PostgreSQL, through HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import HANOI, HOAN_KIEM, Api
from tests.integration.conftest import DATABASES, engine_settings

pytestmark = pytest.mark.anyio

TO_HANOI = {"op": "set_address", "address": {"line": "5 Hàng Bài", "ward_code": HOAN_KIEM, "province_code": HANOI}}
# The sandbox's fee table: 20,000 within Hồ Chí Minh City (the warehouse's province), 40,000 to far Hà Nội.
MORE_FAR = 40_000 - 20_000


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


async def test_the_preview_shows_the_new_fee_and_cod_and_saving_keeps_them(api: Api) -> None:
    order = await api.create_order()
    assert (order["shipping"]["fee"], order["cod_amount"]) == (30_000, 480_000)

    preview = await api.amend(order, TO_HANOI, dry_run=True)
    assert preview.status_code == 200, preview.text
    assert preview.json()["shipping"]["fee"] == 30_000 + MORE_FAR
    assert preview.json()["cod_amount"] == 480_000 + MORE_FAR
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == order["version"]

    saved = await api.amend(order, TO_HANOI)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["shipping"]["fee"], saved.json()["cod_amount"]) == (30_000 + MORE_FAR, 480_000 + MORE_FAR)
    events = (await api.request("GET", f"/api/orders/{order['id']}/events")).json()
    assert events[-1]["changes"]["shipping.fee"] == {"before": 30_000, "after": 30_000 + MORE_FAR}
    assert (events[-1]["cod_before"], events[-1]["cod_after"]) == (480_000, 480_000 + MORE_FAR)


async def test_a_fee_staff_set_in_the_same_amendment_wins(api: Api) -> None:
    order = await api.create_order()
    answer = await api.amend(order, TO_HANOI, {"op": "set_shipping", "fee": 25_000})
    assert answer.status_code == 200, answer.text
    assert answer.json()["shipping"]["fee"] == 25_000


async def test_a_courier_that_cannot_quote_leaves_the_fee_and_the_address_changes(api: Api) -> None:
    order = await api.create_order()
    api.sandbox.fail_next(2)  # both quotes, the old address's and the new one's
    answer = await api.amend(order, TO_HANOI)
    assert answer.status_code == 200, answer.text
    assert answer.json()["shipping"]["fee"] == 30_000
    assert answer.json()["recipient"]["address"]["ward_code"] == HOAN_KIEM


async def test_another_ward_of_the_same_zone_keeps_the_fee(api: Api) -> None:
    order = await api.create_order()
    same_zone = {"op": "set_address", "address": {"line": "9 Nguyễn Huệ", "ward_code": 27316, "province_code": 79}}
    answer = await api.amend(order, same_zone)
    assert answer.status_code == 200, answer.text
    assert answer.json()["shipping"]["fee"] == 30_000
