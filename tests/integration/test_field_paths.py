"""The field a 422 names is the one the client sent, whatever its keys hold; and no body is ever a 500.

Field paths come from walking the body along its type (orders_service.infra.invalid_field), so keys holding a
backtick, msgspec's own " - at `$...`" marker, dots, brackets or quotes, unicode keys, dict entries and deep
list indexes are named exactly: a plain name as `a.b[0]`, any other as a JSON string in brackets, `a["x.y"]`.
The property at the end sends random JSON to a few endpoints: a 4xx problem every time, never a 500.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders_service.infra.settings import Settings
from tests.integration.api import BEN_THANH, Api, order_payload
from tests.integration.conftest import DATABASES, engine_settings, shared_api

pytestmark = pytest.mark.anyio

MARKER = " - at `$.lines[0].sku`"  # what msgspec appends to a message; a key may hold it too
A, B = str(uuid.uuid4()), str(uuid.uuid4())


@pytest.fixture(scope="module", params=DATABASES)
def module_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path_factory.mktemp("field-paths"))


@pytest.fixture(scope="module")
async def api(module_settings: Settings, anyio_backend: str) -> AsyncIterator[Api]:
    async with shared_api(module_settings) as shared:
        yield shared


@pytest.fixture(scope="module")
async def order(api: Api) -> dict[str, Any]:
    return await api.create_order()


def with_key(path: tuple[str | int, ...], key: str, value: Any = 1) -> dict[str, Any]:
    """A valid order with `key` added to the object at `path`."""
    payload = order_payload()
    target: Any = payload
    for step in path:
        target = target[step]
    target[key] = value
    return payload


def operations(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"operations": list(ops)}


RENAME = {"op": "set_recipient", "name": "Lan"}
LINE = {"sku": "NEW-1", "name": "Áo", "quantity": 1}
OPTIONS = [{"size": s, "unit_price": 1} for s in ("S", "M", "L")]

ORDER_CASES = [
    pytest.param(with_key(("recipient",), "a`b"), 'recipient["a`b"]', id="backtick-key"),
    pytest.param(with_key((), "x" + MARKER), '["x - at `$.lines[0].sku`"]', id="marker-key"),
    pytest.param(with_key(("recipient", "address"), "a.b"), 'recipient.address["a.b"]', id="dotted-key"),
    pytest.param(with_key(("lines", 0), "x[0]"), 'lines[0]["x[0]"]', id="bracket-key"),
    pytest.param(with_key(("shipping",), 'say "hi"'), 'shipping["say \\"hi\\""]', id="quoted-key"),
    pytest.param(with_key(("lines", 0), "số_lượng"), "lines[0].số_lượng", id="unicode-key"),
    pytest.param(with_key(("customer",), ""), 'customer[""]', id="empty-key"),
    # a wrong value after an unknown key with the marker: the unknown key comes first in the document
    pytest.param(
        {**with_key((), "k" + MARKER), "prepaid": "1"}, '["k - at `$.lines[0].sku`"]', id="marker-key-then-bad-value"
    ),
    pytest.param(
        order_payload(lines=[*order_payload()["lines"], {**LINE, "tryon_options": [*OPTIONS[:2], {"size": 5}]}]),
        "lines[1].tryon_options[2].size",
        id="deep-list-index",
    ),
]


@pytest.mark.parametrize(("body", "field"), ORDER_CASES)
async def test_a_bad_order_names_the_field_as_sent(api: Api, body: dict[str, Any], field: str) -> None:
    response = await api.request("POST", "/api/orders", json=body)
    assert_names(response, field)


AMEND_CASES = [
    pytest.param(
        operations(RENAME, RENAME, {"op": "set_recipient", "phones": ["0901234567", 5]}),
        "operations[2].phones[1]",
        id="wrong-type-in-tagged-union-list",
    ),
    pytest.param(
        operations(RENAME, {"op": "add_line", "line": {**LINE, "tryon_options": [*OPTIONS, {"unit_price": "1"}]}}),
        "operations[1].line.tryon_options[3].unit_price",
        id="deep-inside-an-operation",
    ),
    pytest.param(operations(RENAME, {"op": "set_recipient", "a`b": 1}), 'operations[1]["a`b"]', id="backtick-op-key"),
    pytest.param(
        operations(
            {
                "op": "set_address",
                "address": {"line": "x", "ward_code": BEN_THANH, "province_code": 79, "floor" + MARKER: 3},
            }
        ),
        'operations[0].address["floor - at `$.lines[0].sku`"]',
        id="marker-nested-key",
    ),
    pytest.param(operations(RENAME, {"op": "teleport" + MARKER}), "operations[1].op", id="marker-in-tag"),
    pytest.param(operations({"op": True}), "operations[0].op", id="bool-tag"),
    pytest.param({"operations": [RENAME], "reason": 5, "ý_do": 1}, "reason", id="bad-value-before-unknown-key"),
]


@pytest.mark.parametrize(("body", "field"), AMEND_CASES)
async def test_a_bad_amendment_names_the_field_as_sent(
    api: Api, order: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    path = f"/api/orders/{order['id']}/amendments"
    response = await api.request("POST", path, json=body, headers={"If-Match": f'"{order["version"]}"'})
    assert_names(response, field)


async def test_a_bad_dict_entry_is_named_by_its_key(api: Api) -> None:
    # msgspec says `$.versions[...]`: the regular expression named no order at all.
    body = {"order_ids": [A, B], "versions": {A: 1, B: "2"}}
    assert_names(await api.request("POST", "/api/orders/merge", json=body), f'versions["{B}"]')


async def test_a_bad_dict_key_is_named(api: Api) -> None:
    body = {"ids": {"district_id": 1, "Not A Key": 2}}
    response = await api.request("PUT", f"/api/couriers/ghn/addresses/{BEN_THANH}", key="admin", json=body)
    assert_names(response, 'ids["Not A Key"]')


async def test_a_renamed_field_is_named_as_sent(api: Api) -> None:
    # CustomerMergeIn.from_ is `from` on the wire.
    body = {"from": [A, "x"], "into": B}
    assert_names(await api.request("POST", "/api/customers/merge", key="admin", json=body), "from[1]")


def assert_names(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [error["field"] for error in problem["errors"]] == [field], problem
    assert all(error["message"] and not msgspec_path(error["message"]) for error in problem["errors"]), problem


def msgspec_path(message: str) -> bool:
    """Whether a message ends with msgspec's path: the message is about the value alone, its path is the field."""
    return re.search(r" - at `\$[^`]*`$", message) is not None


# ---------------------------------------------------------------------------------------------------------
# Random JSON: a 4xx problem naming a field, never a 500.

keys = st.text(max_size=12) | st.sampled_from(["op", "lines", "phones", "recipient", "a`b", "x" + MARKER, "số"])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)  # what JSON can carry
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> dict[str, Any]:
    """`valid` with one value somewhere inside replaced by random JSON, or a random key added."""
    document = copy.deepcopy(valid)
    target: Any = document
    while True:
        children = list(target.items()) if isinstance(target, dict) else list(enumerate(target))
        containers = [(k, v) for k, v in children if isinstance(v, dict | list) and v]
        if not containers or draw(st.booleans()):
            break
        _, target = draw(st.sampled_from(containers))
    if isinstance(target, dict) and draw(st.booleans()):
        target[draw(keys)] = draw(json_values)
    elif target:
        slot = draw(st.sampled_from(list(target) if isinstance(target, dict) else list(range(len(target)))))
        target[slot] = draw(json_values)
    return document


VALID = {  # drawn once: hypothesis replays an example from the same valid bodies
    "/api/orders": order_payload(),
    "/amendments": operations(RENAME, {"op": "set_quantity", "line_id": A, "quantity": 2}),
    "/api/customers": {"full_name": "Trần Mai", "phones": ["0901234567"], "tags": ["vip"], "identities": []},
}
requests = st.sampled_from(list(VALID)).flatmap(
    lambda path: st.tuples(st.just(path), json_values | mutated(VALID[path]))
)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@PROPERTY
@given(request=requests)
async def test_random_bodies_are_a_4xx_problem_never_a_500(
    api: Api, order: dict[str, Any], request: tuple[str, Any]
) -> None:
    path, body = request
    path = f"/api/orders/{order['id']}/amendments" if path == "/amendments" else path
    headers = {"If-Match": '"0"'}  # a stale version: even a valid amendment changes nothing
    response = await api.request("POST", path, json=body, headers=headers)
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        if response.status_code == 422:
            assert problem["errors"] and all(e["field"] and e["message"] for e in problem["errors"]), problem
            assert not any(msgspec_path(e["message"]) for e in problem["errors"]), problem
