"""A COD statement row's explanation (written in English by the COD service) reads in the page's language: every
clause the service can write has its words, amounts as the shop writes them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from orders_service.cod.classify import CodChange, OrderFacts, classify
from orders_service.dashboard import i18n
from orders_service.dashboard.cod_words import explanation_words

CREATED = CodChange(1, "created", None, 480_000)
AMENDED = CodChange(2, "amended", 480_000, 530_000)


@pytest.fixture
def vietnamese() -> Iterator[None]:
    i18n.current.set("vi")
    yield
    i18n.current.set("vi")


def explanations() -> list[str]:
    """Each clause explain() writes, at least once."""
    cases = [
        OrderFacts("DH1", "delivered", 480_000, [CREATED]),
        OrderFacts("DH2", "delivered", 530_000, [CREATED, AMENDED], acknowledged_version=1, reported_cod=400_000),
        OrderFacts("DH3", "delivered", 530_000, [CREATED, AMENDED], acknowledged_version=1, acknowledged_cod=480_000),
        OrderFacts("DH4", "in_transit", 530_000, [CREATED, AMENDED]),
        OrderFacts("DH5", "returned", 0, [CREATED]),
    ]
    said = [classify("ghn", "GHN1", collected, facts).explanation for facts in cases for collected in (480_000, 1)]
    said.append(classify("ghn", "GHN404", 1, None).explanation)
    return [s for s in said if s]


def test_every_clause_of_an_explanation_reads_in_vietnamese(vietnamese: None) -> None:
    english = re.compile(r"\b(the|is|order|courier|collected|due|nothing|since|changed|acknowledged|never)\b")
    for explanation in explanations():
        said = explanation_words(explanation)
        assert not english.search(said), (explanation, said)
        assert not re.search(r"\d,\d{3}", said), said  # 480.000 ₫ as the shop writes it, not 480,000
    assert explanation_words(
        classify("ghn", "GHN1", 1, OrderFacts("DH1", "delivered", 480_000, [CREATED])).explanation
    ) == ("COD của đơn là 480.000 ₫ từ khi tạo; đã thu 1 ₫, ít hơn 479.999 ₫ so với 480.000 ₫ phải thu")


def test_in_english_the_codes_are_words_too() -> None:
    i18n.current.set("en")
    try:
        said = explanation_words(
            classify("ghn", "GHN1", 1, OrderFacts("DH4", "in_transit", 530_000, [CREATED, AMENDED])).explanation
        )
    finally:
        i18n.current.set("vi")
    assert said.startswith("COD changed to 530.000 ₫ at version 2 (Edit order)"), said
    assert "order DH4 is Out for delivery: 530.000 ₫ is due on delivery" in said
    assert "in_transit" not in said and "amended" not in said
