"""COD statements' pure parts: amounts as statements write them, formats told apart by their header, and a row
classified and explained from an order's events."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders_service.cod.classify import CodChange, OrderFacts, RowStatus, classify, due_on_statement
from orders_service.cod.formats import BadStatement, amount, formats, parse, parse_columns
from orders_service.domain.model import MAX_MONEY


@given(st.integers(min_value=0, max_value=MAX_MONEY), st.sampled_from(["", ".", ","]), st.sampled_from(["", " ₫"]))
def test_an_amount_reads_back_however_its_thousands_are_grouped(value: int, sep: str, unit: str) -> None:
    text = f"{value:,}".replace(",", sep) + unit
    assert amount(text, "cell") == value


@pytest.mark.parametrize("text", ["-1", "(5.000)", "1.5", "12,34", "1.000,5", "abc", "", "1e3", str(MAX_MONEY + 1)])
def test_amounts_that_are_not_whole_non_negative_vnd_are_refused(text: str) -> None:
    with pytest.raises(BadStatement) as refused:
        amount(text, "line 2, fee")
    assert refused.value.field == "line 2, fee"


def test_configured_titles_join_the_built_in_ones() -> None:
    known = formats(parse_columns("ghtk.tracking_code=Mã vận đơn|Mã ĐH;ghtk.fee=Tổng cước"))
    parsed = parse("MÃ ĐH;Tiền thu hộ;Tổng cước (đ)\nS1.A;100.000;20.000\n", known)
    assert (parsed.courier, parsed.rows[0].cod_collected, parsed.rows[0].fee) == ("ghtk", 100_000, 20_000)
    with pytest.raises(BadStatement):  # not without the configuration
        parse("MÃ ĐH;Tiền thu hộ;Tổng cước (đ)\nS1.A;100.000;20.000\n", formats())
    with pytest.raises(ValueError, match="ORDERS_COD_COLUMNS"):
        parse_columns("vnpost.fee=Cước")


def test_a_header_with_both_couriers_parcel_columns_is_ambiguous() -> None:
    with pytest.raises(BadStatement, match="more than one format"):
        parse("order_code,label_id,Tiền thu hộ,Tổng phí\nG1,S1,1,1\n", formats())


def _facts(**kw: object) -> OrderFacts:
    events = [
        CodChange(1, "created", None, 720_000),
        CodChange(5, "ready_to_ship", 720_000, 720_000),
        CodChange(7, "amended", 720_000, 590_000),
        CodChange(8, "courier_delivered", 590_000, 590_000),
    ]
    base: dict[str, object] = {"code": "DH1", "status": "delivered", "cod_due": 590_000, "events": events}
    return OrderFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_a_cod_change_the_courier_never_acknowledged_is_the_explanation() -> None:
    verdict = classify("ghn", "G1", 720_000, _facts(acknowledged_version=5, acknowledged_cod=720_000))
    assert (verdict.status, verdict.expected) == (RowStatus.MISMATCH, 590_000)
    assert verdict.explanation is not None
    assert verdict.explanation.startswith(
        "COD changed to 590,000 ₫ at v7 (amended); the courier acknowledged v5 with 720,000 ₫"
    )
    assert "the amount collected is the COD of v5" in verdict.explanation
    assert verdict.explanation.endswith("collected 720,000 ₫, 130,000 ₫ more than the 590,000 ₫ due")


def test_matched_unknown_and_nothing_due_on_a_returned_order() -> None:
    assert classify("ghn", "G1", 590_000, _facts(acknowledged_version=8)).status is RowStatus.MATCHED
    unknown = classify("ghn", "G9", 1, None)
    assert (unknown.status, unknown.expected) == (RowStatus.UNKNOWN, None)
    assert due_on_statement("returned", 590_000) == 0 and due_on_statement("partially_delivered", 5) == 5
    returned = classify("ghn", "G1", 590_000, _facts(status="returned", cod_due=0, acknowledged_version=8))
    assert returned.status is RowStatus.MISMATCH and returned.explanation is not None
    assert "order DH1 is returned: nothing is due" in returned.explanation
