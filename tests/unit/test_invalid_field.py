"""The field a bad body names, found by walking the body along its type (orders_service.infra.invalid_field).

Examples pin the path style and the cases msgspec's error text gets wrong or leaves out; the properties check,
over valid bodies of the service's own types with one random change, that the walk fails exactly when msgspec
does, names a place that exists in the document, never passes msgspec's path off as a message, and names the
same place msgspec names whenever msgspec's text is unambiguous (plain keys, no dict entries).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orders_service.customers.schemas import CustomerIn, CustomerMergeIn
from orders_service.infra.invalid_field import Invalid, field_name, first_invalid
from orders_service.orders.family_schemas import MergeIn, SplitIn
from orders_service.orders.schemas import AmendmentIn, OrderIn
from orders_service.shipping.addresses import AddressMapIn

ID = "00000000-0000-4000-8000-000000000001"
ADDRESS = {"line": "12 Lê Lợi", "ward_code": 26743, "province_code": 79}
LINE = {"sku": "D-1", "name": "Đầm", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}
OPTIONS = [{"size": "S", "unit_price": 1}, {"size": "M", "color": "red", "unit_price": 2}]
ORDER = {
    "customer": {"full_name": "Lan", "phones": ["0901234567"], "tags": ["vip"], "identities": []},
    "recipient": {"name": "Lan", "phones": ["0901234567", "0283 822 1234"], "address": ADDRESS},
    "lines": [LINE, {"sku": "T-1", "name": "Áo", "tryon_options": OPTIONS}],
    "shipping": {"fee": 30000, "payer": "customer"},
    "note": "gọi trước",
}
AMENDMENT = {
    "operations": [
        {"op": "set_recipient", "name": "Lan", "phones": ["0901234567"]},
        {"op": "set_address", "address": ADDRESS},
        {"op": "add_line", "line": {"sku": "T-2", "name": "Váy", "tryon_options": OPTIONS}},
        {"op": "set_quantity", "line_id": ID, "quantity": 2},
        {"op": "swap_variant", "line_id": ID, "size": "L"},
        {"op": "set_shipping", "fee": 0},
    ],
    "reason": "khách đổi",
}
VALID: list[tuple[Any, dict[str, Any]]] = [
    (OrderIn, ORDER),
    (AmendmentIn, AMENDMENT),
    (CustomerIn, ORDER["customer"] | {"identities": [{"kind": "email", "value": "a@b.vn"}]}),
    (MergeIn, {"order_ids": [ID, ID], "versions": {ID: 1, "other": 2}}),
    (SplitIn, {"parts": [{"lines": [{"line_id": ID, "quantity": 1}], "recipient": ORDER["recipient"]}]}),
    (AddressMapIn, {"ids": {"district_id": 1, "ward_code": "20308"}}),
    (CustomerMergeIn, {"from": [ID], "into": ID}),
]


def test_the_valid_bodies_are_valid() -> None:
    for type_, body in VALID:
        assert first_invalid(body, type_) is None, type_


# ---------------------------------------------------------------------------------------------------------
# The path style.


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ((), ""),
        (("lines", 0, "quantity"), "lines[0].quantity"),
        (("operations", 2, "phones", 1), "operations[2].phones[1]"),
        (("lines", 0, "số_lượng"), "lines[0].số_lượng"),
        (("A·",), '["A·"]'),  # a middle dot is no letter: quoted, though Python takes it in a name
        ((0, "a"), "[0].a"),
        (("recipient", "a`b"), 'recipient["a`b"]'),
        (("a.b",), '["a.b"]'),
        (("x", "y[0]"), 'x["y[0]"]'),
        (("x", 'say "hi"'), 'x["say \\"hi\\""]'),
        (("x", ""), 'x[""]'),
        (("x", "tab\there"), 'x["tab\\there"]'),
        (("x", "1a"), 'x["1a"]'),
    ],
)
def test_field_names(path: tuple[str | int, ...], field: str) -> None:
    assert field_name(path) == field


_SEGMENT = re.compile(r'\.?([^\W\d]\w*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def parse_field(field: str) -> tuple[str | int, ...]:
    """The path a field name was written from: the reading a client does, so the writing must allow it."""
    path: list[str | int] = []
    position = 0
    while position < len(field):
        step = _SEGMENT.match(field, position)
        assert step is not None and (step.group(1) is None or position == 0 or field[position] == "."), field
        name, index, quoted = step.groups()
        path.append(name if name is not None else int(index) if index is not None else json.loads(quoted))
        position = step.end()
    return tuple(path)


@given(st.lists(st.text() | st.integers(0, 10**6), max_size=6))
@example(["A·"])  # an identifier to Python, not to `\w`: hypothesis found it once
def test_every_path_reads_back_from_its_field_name(path: list[str | int]) -> None:
    assert parse_field(field_name(tuple(path))) == tuple(path)


# ---------------------------------------------------------------------------------------------------------
# Examples msgspec's text gets wrong or leaves out.

MARKER = " - at `$.lines[0].sku`"


def order_with(path: tuple[str | int, ...], key: str, value: Any = 1) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    target: Any = body
    for step in path:
        target = target[step]
    target[key] = value
    return body


@pytest.mark.parametrize(
    ("type_", "body", "expected"),
    [
        (OrderIn, order_with(("recipient",), "a`b"), ('recipient["a`b"]', "Object contains unknown field")),
        (OrderIn, order_with((), "x" + MARKER), ('["x - at `$.lines[0].sku`"]', "Object contains unknown field")),
        (OrderIn, order_with(("recipient", "address"), "a.b"), ('recipient.address["a.b"]', None)),
        (OrderIn, order_with(("lines", 1, "tryon_options", 1), "màu"), ("lines[1].tryon_options[1].màu", None)),
        (OrderIn, order_with(("lines", 1, "tryon_options", 1), "size", 5), ("lines[1].tryon_options[1].size", None)),
        (OrderIn, {k: v for k, v in ORDER.items() if k != "recipient"}, ("recipient", "Object missing required field")),
        (OrderIn, order_with((), "customer", []), ("customer", "Expected `object | null`, got `array`")),
        (OrderIn, [], ("", "Expected `object`, got `array`")),
        (
            AmendmentIn,
            {"operations": [*AMENDMENT["operations"][:2], {"op": "set_recipient", "phones": ["1", 5]}]},
            ("operations[2].phones[1]", "Expected `str`, got `int`"),
        ),
        (AmendmentIn, {"operations": [{"name": "A"}]}, ("operations[0].op", "Object missing required field")),
        (AmendmentIn, {"operations": [{"op": True}]}, ("operations[0].op", "Expected `str`, got `bool`")),
        (AmendmentIn, {"operations": [{"op": "teleport"}]}, ("operations[0].op", None)),
        (AmendmentIn, {"operations": [{"op": "x"}] * 51}, ("operations", "Expected `array` of length <= 50")),
        (MergeIn, {"order_ids": [ID, ID], "versions": {ID: 1, "a.b": "2"}}, ('versions["a.b"]', None)),
        (AddressMapIn, {"ids": {"Not A Key": 1}}, ('ids["Not A Key"]', None)),
        (CustomerMergeIn, {"from": [ID, "x"], "into": ID}, ("from[1]", None)),
    ],
)
def test_the_field_is_named_as_sent(type_: Any, body: Any, expected: tuple[str, str | None]) -> None:
    invalid = first_invalid(body, type_)
    assert invalid is not None
    field, message = expected
    assert invalid.field == field
    assert invalid.message == message if message is not None else invalid.message
    assert not msgspec_path(invalid.message)


class _Lone(msgspec.Struct, tag_field="op", tag="lone", forbid_unknown_fields=True):
    count: int = 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"count": "1"}, Invalid(("count",), "Expected `int`, got `str`")),  # no tag needed: msgspec reads it
        ({"op": "other"}, Invalid(("op",), "Invalid enum value 'other'")),
        ({"x": 1}, Invalid(("x",), "Object contains unknown field")),
        ([], Invalid((), "Expected `object | null`, got `array`")),
    ],
)
def test_a_lone_tagged_struct_needs_no_tag(body: Any, expected: Invalid) -> None:
    assert first_invalid(body, _Lone | None) == expected
    assert first_invalid({"op": "lone"}, _Lone | None) is None


@pytest.mark.parametrize(
    ("body", "type_", "path"),
    [
        ([*range(99_999), "x"], list[int], (99_999,)),
        ({**{f"k{i}": i for i in range(99_999)}, "last": "x"}, dict[str, int], ("last",)),
        ({"order_ids": [ID, ID], "versions": {**{f"o{i}": i for i in range(50_000)}, "o7": "x"}}, MergeIn, None),
    ],
)
def test_a_long_array_or_object_is_searched_by_halving(
    monkeypatch: pytest.MonkeyPatch, body: Any, type_: Any, path: tuple[str | int, ...] | None
) -> None:
    # One conversion per item would be 100,000 calls from Python; halving needs about two per power of two.
    calls = []
    convert = msgspec.convert
    monkeypatch.setattr(msgspec, "convert", lambda *a, **k: calls.append(1) or convert(*a, **k))
    invalid = first_invalid(body, type_)
    assert invalid is not None
    assert invalid.path == (path or ("versions", "o7"))
    assert len(calls) < 60, len(calls)


def test_lenient_conversion_is_walked_leniently() -> None:
    # strict=False (form fields arrive as strings): "2" is a quantity there, "two" is not.
    body = order_with(("lines", 0), "quantity", "2")
    assert first_invalid(body, OrderIn, strict=False) is None
    assert first_invalid(body, OrderIn) == Invalid(("lines", 0, "quantity"), "Expected `int`, got `str`")
    wrong = order_with(("lines", 0), "quantity", "two")
    assert first_invalid(wrong, OrderIn, strict=False) == Invalid(("lines", 0, "quantity"), "Expected `int`, got `str`")


# ---------------------------------------------------------------------------------------------------------
# Properties over valid bodies with one random change.

keys = st.text(max_size=8) | st.sampled_from(["op", "name", "phones", "a`b", "x" + MARKER, "số", "quantity"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def changed(draw: st.DrawFn) -> tuple[Any, Any]:
    """A type and a valid body of it with one value replaced by random JSON, one key added, or one removed."""
    type_, body = draw(st.sampled_from(VALID))
    body = copy.deepcopy(body)
    target: Any = body
    while draw(st.booleans()):
        containers = [
            v for v in (target.values() if isinstance(target, dict) else target) if v and isinstance(v, dict | list)
        ]
        if not containers:
            break
        target = draw(st.sampled_from(containers))
    slots = list(target) if isinstance(target, dict) else list(range(len(target)))
    change = draw(st.sampled_from(["replace", "add", "remove"] if isinstance(target, dict) else ["replace"]))
    if change == "add" or not slots:
        target[draw(keys)] = draw(json_values)
    elif change == "remove":
        del target[draw(st.sampled_from(slots))]
    else:
        target[draw(st.sampled_from(slots))] = draw(json_values)
    return type_, body


def msgspec_path(message: str) -> bool:
    return re.search(r" - at `\$[^`]*`$", message) is not None


def resolves(body: Any, invalid: Invalid) -> bool:
    """Whether the field exists in the body, or, for a missing one, its parent object does."""
    target = body
    for step in invalid.path[:-1]:
        target = target[step]
    if not invalid.path:
        return True
    last = invalid.path[-1]
    if invalid.message == "Object missing required field":
        return isinstance(target, dict) and last not in target
    return (isinstance(target, dict) and last in target) or (isinstance(target, list) and last < len(target))


_MSGSPEC_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MSGSPEC_NAMED = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<name>[^`]+)`$")


def msgspec_field(error: msgspec.ValidationError) -> str | None:
    """The field msgspec's text names, read the old way: only as an oracle, where that text is unambiguous."""
    match = _MSGSPEC_PATH.match(str(error))
    assert match is not None
    path = (match.group("path") or "").lstrip(".")
    if "[...]" in path or " - at `key` in `$" in str(error):
        return None  # a dict entry or key: msgspec does not say which
    named = _MSGSPEC_NAMED.match(match.group("message"))
    if named:
        path = f"{path}.{named.group('name')}" if path else named.group("name")
    return path


# The plain style's keys (field_name): letters, digits and underscores, not starting with a digit. Not
# str.isidentifier(), which also takes a middle dot or a combining mark ("A·"), that field_name quotes.
_PLAIN_KEY = re.compile(r"[^\W\d]\w*")


def plain_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _PLAIN_KEY.fullmatch(k) and plain_keys(v) for k, v in value.items())
    return all(plain_keys(v) for v in value) if isinstance(value, list) else True


PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@PROPERTY
@given(case=changed())
def test_the_walk_names_where_msgspec_fails(case: tuple[Any, Any]) -> None:
    type_, body = case
    invalid = first_invalid(body, type_)
    try:
        msgspec.convert(body, type_, strict=True)
    except msgspec.ValidationError as error:
        assert invalid is not None
        assert resolves(body, invalid), invalid
        assert invalid.message and not msgspec_path(invalid.message), invalid
        if plain_keys(body):
            assert msgspec_field(error) in (None, invalid.field), (str(error), invalid)
    else:
        assert invalid is None


# ---------------------------------------------------------------------------------------------------------
# The dashboard's forms go through the same walk (orders_service.dashboard.pages.convert).


@pytest.mark.parametrize(
    ("form", "field"),
    [
        # msgspec names the missing field in its text and the object in its path: the old reading took the object
        ({"parts": [{"lines": [{"line_id": ID}]}]}, "parts[0].lines[0].quantity"),
        ({"parts": [{"lines": [{"line_id": ID, "quantity": "1", "x.y": 1}]}]}, 'parts[0].lines[0]["x.y"]'),
        ({"parts": [{"lines": [{"line_id": ID, "quantity": "two"}]}]}, "parts[0].lines[0].quantity"),
        ({"parts": "none"}, "parts"),
    ],
)
def test_a_dashboard_form_names_the_field(form: dict[str, Any], field: str) -> None:
    from orders_service.dashboard.pages import convert
    from orders_service.domain.errors import InvalidField

    with pytest.raises(InvalidField) as refused:
        convert(form, SplitIn)
    assert refused.value.field == field
    assert refused.value.message and not msgspec_path(refused.value.message)
