"""Properties of amendments over HTTP, with random operation lists (valid and invalid mixed).

- A dry run never changes the stored order or its events, whatever it is sent; when it answers 200 it
  previews the money of the real amendment exactly.
- Sent for real, an amendment either answers 200 with exact money (cod_amount = max(0, total - paid),
  refund_due = max(0, paid - total), every amount >= 0), version + 1 and one more event whose cod_before
  and cod_after match, or answers a 4xx problem and leaves the order and its events byte-for-byte as they were.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.integration.api import BEN_THANH, HANOI, HCMC, HOAN_KIEM, Api

pytestmark = pytest.mark.anyio

PROPERTIES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,  # nothing written to .hypothesis/; failures print their reproducing example
)
UNKNOWN_LINE = "00000000-0000-4000-8000-000000000000"

# ---------------------------------------------------------------------------------------------------------
# Strategies. Operations refer to lines by position (`line` 0..3); a position past the order's last line
# becomes a line id the order does not have.


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`valid` nine times in ten, else `invalid`: lists of a few operations then still often succeed."""
    return st.sampled_from([False] * 9 + [True]).flatmap(lambda bad: invalid if bad else valid)


VALID_PHONES = ["0901234567", "+84 91 234 5678", "84-93-123-4567", "0283 822 1234", "(028) 3822 1235"]
INVALID_PHONES = ["12345", "abc", "", "+84 1", "0901234567890123"]
phones = mostly(
    st.lists(st.sampled_from(VALID_PHONES), min_size=1, max_size=3, unique=True),
    st.one_of(
        st.lists(st.sampled_from(VALID_PHONES + INVALID_PHONES), min_size=0, max_size=4),
        st.just(["0901234567", "+84 90 123 4567"]),  # the same phone in two forms
    ),
)
names = mostly(st.sampled_from(["Phạm Hoa", "Lan", "Trần Thị Mai"]), st.sampled_from(["  ", "", "N" * 121]))
addresses = mostly(
    st.sampled_from(
        [
            {"line": "12 Lê Lợi", "ward_code": BEN_THANH, "province_code": HCMC},
            {"line": "5 Hàng Bài", "ward_code": HOAN_KIEM, "province_code": HANOI},
        ]
    ),
    st.sampled_from(
        [
            {"line": "5 Hàng Bài", "ward_code": HOAN_KIEM, "province_code": HCMC},  # ward outside its province
            {"line": "x", "ward_code": BEN_THANH, "province_code": 98},  # no such province
            {"line": " ", "ward_code": BEN_THANH, "province_code": HCMC},
        ]
    ),
)
prices = mostly(st.integers(0, 2_000_000), st.sampled_from([-1, 10**9 + 1, 10**13]))
quantities = mostly(st.integers(1, 5), st.sampled_from([0, -1, 1000, 2**63]))
money = mostly(st.integers(1, 3_000_000), st.sampled_from([0, -1, 10**12 + 1]))
sizes = st.sampled_from(["S", "M", "L", "XL"])
colors = st.sampled_from(["red", "white", "blue"])
tryon_options = mostly(
    st.lists(
        st.fixed_dictionaries({"size": sizes, "color": colors, "unit_price": st.integers(0, 1_000_000)}),
        min_size=1,
        max_size=4,
        unique_by=lambda option: (option["size"], option["color"]),
    ),
    st.sampled_from([[], [{"size": "M"}, {"size": "M"}], [{"unit_price": 1}]]),
)
plain_lines = st.fixed_dictionaries(
    {
        "sku": mostly(st.sampled_from(["DRESS-01", "SHIRT-02"]), st.sampled_from(["", "S" * 65])),
        "name": st.just("Hàng"),
        "size": sizes,
        "color": colors,
        "unit_price": prices,
        "quantity": quantities,
    }
)
tryon_lines = st.fixed_dictionaries(
    {
        "sku": st.just("TRY-01"),
        "name": st.just("Thử"),
        "quantity": mostly(st.just(1), st.just(0)),
        "tryon_options": tryon_options,
    }
)
line_refs = mostly(st.integers(0, 2), st.just(3))


def _op(op: str, /, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"op": st.just(op), **fields})


operations = st.one_of(
    _op("set_recipient", name=names),
    _op("set_recipient", phones=phones),
    _op("set_recipient", name=names, phones=phones),
    _op("set_address", address=addresses),
    _op("add_line", line=st.one_of(plain_lines, tryon_lines)),
    _op("remove_line", line=line_refs),
    _op("set_quantity", line=line_refs, quantity=quantities),
    _op("swap_variant", line=line_refs, size=sizes),
    _op("swap_variant", line=line_refs, color=colors, unit_price=prices),
    _op("set_tryon_options", line=line_refs, tryon_options=tryon_options),
    _op("add_payment", amount=money),
    _op("set_shipping", fee=st.one_of(st.integers(0, 100_000), st.just(-1))),
    _op("set_shipping", payer=st.sampled_from(["customer", "shop", "nobody"])),
)
garbage = st.sampled_from([{"op": "teleport"}, {"op": "set_quantity", "quantity": "x"}, {"op": "add_payment"}])
operation_lists = st.lists(mostly(operations, garbage), min_size=1, max_size=4)

orders = st.fixed_dictionaries(
    {
        "lines": st.lists(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "sku": st.sampled_from(["DRESS-01", "SHIRT-02"]),
                        "name": st.just("Hàng"),
                        "size": sizes,
                        "color": colors,
                        "unit_price": st.integers(0, 2_000_000),
                        "quantity": st.integers(1, 4),
                    }
                ),
                st.fixed_dictionaries(
                    {
                        "sku": st.just("TRY-01"),
                        "name": st.just("Thử"),
                        "quantity": st.just(1),
                        "tryon_options": st.just(
                            [
                                {"size": "M", "color": "white", "unit_price": 350_000},
                                {"size": "L", "color": "blue", "unit_price": 380_000},
                            ]
                        ),
                    }
                ),
            ),
            min_size=1,
            max_size=3,
        ),
        "prepaid": st.one_of(st.just(0), st.integers(0, 3_000_000)),
        "shipping": st.fixed_dictionaries(
            {"fee": st.integers(0, 50_000), "payer": st.sampled_from(["customer", "shop"])}
        ),
    }
)
statuses = st.sampled_from(["pending", "pending", "confirmed", "cancelled"])


# ---------------------------------------------------------------------------------------------------------
# Helpers.


def mobile() -> str:
    return "090" + f"{uuid.uuid4().int % 10**7:07d}"


async def make_order(api: Api, shape: dict[str, Any], status: str) -> dict[str, Any]:
    phone = mobile()
    order = await api.create_order(
        customer={"full_name": "Nguyễn Thị Lan", "phones": [phone]},
        recipient={
            "name": "Nguyễn Thị Lan",
            "phones": [phone],
            "address": {"line": "12 Lê Lợi", "ward_code": BEN_THANH, "province_code": HCMC},
        },
        **shape,
    )
    if status != "pending":
        action = "confirm" if status == "confirmed" else "cancel"
        moved = await api.request("POST", f"/api/orders/{order['id']}/{action}", headers={"If-Match": '"1"'})
        assert moved.status_code == 200, moved.text
        order = moved.json()
    return order


def materialise(order: dict[str, Any], abstract: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace each operation's line position by that line's id, or by an id the order does not have."""
    concrete = []
    line_ids = [line["id"] for line in order["lines"]]
    for op in abstract:
        op = dict(op)
        if "line" in op and op["op"] != "add_line":
            position = op.pop("line")
            op["line_id"] = line_ids[position] if position < len(line_ids) else UNKNOWN_LINE
        concrete.append(op)
    return concrete


async def stored(api: Api, order_id: str) -> tuple[httpx.Response, httpx.Response]:
    order = await api.request("GET", f"/api/orders/{order_id}")
    events = await api.request("GET", f"/api/orders/{order_id}/events")
    assert order.status_code == events.status_code == 200
    return order, events


def line_amount(line: dict[str, Any]) -> int:
    if line.get("kept") is not None:
        return sum(item["unit_price"] * item["quantity"] for item in line["kept"])
    if line.get("tryon_options") is not None:
        prices = sorted((option["unit_price"] for option in line["tryon_options"]), reverse=True)
        return sum(prices[: line["quantity"]])
    return int(line["unit_price"]) * int(line["quantity"])


def assert_money(order: dict[str, Any]) -> None:
    """The contract's money rules, recomputed from the order's own lines."""
    amounts = [order["subtotal"], order["total"], order["paid"], order["cod_amount"], order["refund_due"]]
    amounts += [order["discount"]["amount"], order["discount"]["percent"], order["shipping"]["fee"]]
    for line in order["lines"]:
        assert line["amount"] == line_amount(line), line
        amounts += [line["amount"], line["quantity"]]
        amounts += [line["unit_price"]] if line.get("unit_price") is not None else []
        amounts += [option["unit_price"] for option in line.get("tryon_options") or []]
    assert all(isinstance(value, int) and not isinstance(value, bool) and value >= 0 for value in amounts), order
    assert order["subtotal"] == sum(line["amount"] for line in order["lines"])
    assert order["discount"]["amount"] == order["subtotal"] * order["discount"]["percent"] // 100
    fee = order["shipping"]["fee"] if order["shipping"]["payer"] == "customer" else 0
    assert order["total"] == order["subtotal"] - order["discount"]["amount"] + fee
    assert order["cod_amount"] == max(0, order["total"] - order["paid"])
    assert order["refund_due"] == max(0, order["paid"] - order["total"])


def assert_refusal(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == response.status_code
    assert all(isinstance(problem[key], str) and problem[key] for key in ("type", "title", "detail"))
    if response.status_code == 422:
        assert problem["errors"] and all(error["field"] and error["message"] for error in problem["errors"])


MONEY = ("subtotal", "discount", "shipping", "total", "paid", "cod_amount", "refund_due")


# ---------------------------------------------------------------------------------------------------------
# Properties.


@PROPERTIES
@given(shape=orders, status=statuses, abstract=operation_lists)
async def test_a_dry_run_never_writes_and_previews_the_real_answer(
    api: Api, shape: dict[str, Any], status: str, abstract: list[dict[str, Any]]
) -> None:
    order = await make_order(api, shape, status)
    ops = materialise(order, abstract)
    before_order, before_events = await stored(api, order["id"])

    preview = await api.amend(order, *ops, dry_run=True)
    after_order, after_events = await stored(api, order["id"])
    assert after_order.content == before_order.content
    assert after_events.content == before_events.content
    if preview.status_code != 200:
        assert_refusal(preview)
    else:
        assert preview.json()["version"] == order["version"]
        assert preview.headers["etag"] == f'"{order["version"]}"'
        assert_money(preview.json())

    event(f"status {preview.status_code}")
    real = await api.amend(order, *ops)
    assert real.status_code == preview.status_code, (preview.text[:300], real.text[:300])
    if real.status_code == 200:
        assert {k: real.json()[k] for k in MONEY} == {k: preview.json()[k] for k in MONEY}


@PROPERTIES
@given(shape=orders, status=statuses, abstract=operation_lists)
async def test_an_amendment_is_exact_or_changes_nothing(
    api: Api, shape: dict[str, Any], status: str, abstract: list[dict[str, Any]]
) -> None:
    order = await make_order(api, shape, status)
    ops = materialise(order, abstract)
    before_order, before_events = await stored(api, order["id"])
    before, events = before_order.json(), before_events.json()

    response = await api.amend(order, *ops)
    event(f"status {response.status_code}")
    after_order, after_events = await stored(api, order["id"])
    if response.status_code != 200:
        assert_refusal(response)
        assert after_order.content == before_order.content
        assert after_events.content == before_events.content
        return

    amended = response.json()
    assert_money(amended)
    assert amended["version"] == before["version"] + 1
    assert response.headers["etag"] == f'"{before["version"] + 1}"'
    assert after_order.json() == amended
    new_events = after_events.json()
    assert new_events[:-1] == events and len(new_events) == len(events) + 1
    last = new_events[-1]
    assert last["type"] == "amended" and last["version"] == amended["version"]
    assert (last["cod_before"], last["cod_after"]) == (before["cod_amount"], amended["cod_amount"])
