"""JSON column values are written by msgspec (db/engine.json_text), and whatever `json.dumps` wrote before reads
and writes the same way now."""

from __future__ import annotations

import collections
import enum
import json
import math
from typing import Any

import pytest
from markupsafe import Markup

from orders_service.db.engine import json_text, json_value


class Colour(enum.StrEnum):
    RED = "red"


class Count(int):
    """An int subclass that is no enum: msgspec refuses it as it is."""


CASES: list[Any] = [
    {"name": "Áo sơ mi", "unit_price": 200000, "tryon_options": None},
    [{"op": "set_quantity", "line_id": "0193a1b2-0000-7000-8000-000000000001", "quantity": 2}],
    Markup("<b>Lan</b>"),  # a str subclass
    Count(3),  # an int subclass that is no enum
    {"colour": Colour.RED, Colour.RED: 1},
    collections.OrderedDict(a=1),
    (1, 2),
    {1: "a", 1.5: "b"},
    {True: "a", None: "b"},  # keys msgspec refuses: json.dumps writes them
    2**70,
]


@pytest.mark.parametrize("value", CASES, ids=range(len(CASES)))
def test_a_value_reads_back_as_json_dumps_wrote_it(value: Any) -> None:
    assert json_value(json_text(value)) == json.loads(json.dumps(value))


def test_letters_are_written_as_letters() -> None:
    assert json_text({"name": "Nguyễn Thị Lan"}) == '{"name":"Nguyễn Thị Lan"}'


def test_text_json_dumps_wrote_reads_the_same() -> None:
    for value in CASES:
        written = json.dumps(value)  # rows written before msgspec, with \\u escapes
        assert json_value(written) == json.loads(written)
    assert math.isnan(json_value('{"x": NaN}')["x"])


def test_what_json_dumps_refuses_is_refused() -> None:
    with pytest.raises(TypeError):
        json_text({"x": object()})
