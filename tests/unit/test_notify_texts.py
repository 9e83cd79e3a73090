"""Money the Vietnamese way, and every template rendered in both locales."""

from __future__ import annotations

import os

import pytest

from notifications.money import format_vnd
from notifications.templates import LOCALES, MARKETING, Template, TemplateError, render, text_params

PARAMS = {
    "shop": "Min Boutique",
    "name": "Lan",
    "code": "DHABC23456",
    "changes": ["address", "items"],
    "cod_before": 480000,
    "cod_after": 350000,
    "url": "http://shop.test/o/tok",
    "expires_at": "10:00 12/03/2026",
    "cod": 350000,
    "courier": "GHN",
    "tracking_code": "GHN123",
    "amount": 1250000,
    "points": 125,
    "error": "address not served",
    "tier": "gold",
    "percent": 25,
    "message": "Giảm 20% cuối tuần.",
    "unsubscribe": "http://shop.test/u/abc",
    "codes": ["DHXYZ23456"],
    "parcels": ["DHABC23456: 480.000 ₫", "DHXYZ23456: 405.000 ₫"],
    "reason": "Áo đã qua sử dụng",
}


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "0 ₫"), (999, "999 ₫"), (350000, "350.000 ₫"), (5_200_000, "5.200.000 ₫"), (-50000, "-50.000 ₫")],
)
def test_vnd_is_written_with_dots_and_the_dong_sign(amount: int, text: str) -> None:
    assert format_vnd(amount) == text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", list(Template))
def test_every_template_renders_in_every_locale(template: Template, locale: str) -> None:
    rendered = render(template, locale, PARAMS)
    assert rendered.body and rendered.subject
    assert "{{" not in rendered.body
    if template in MARKETING:  # Decree 91: labelled as advertising, with a way out
        assert rendered.body.startswith("[QC]" if locale == "vi" else "[AD]")
        assert "http://shop.test/u/abc" in rendered.body


def test_amendment_says_what_changed_and_the_new_amount() -> None:
    body = render(Template.ORDER_AMENDED, "vi", PARAMS).body
    assert "địa chỉ giao hàng, sản phẩm" in body
    assert "350.000 ₫ (trước đây 480.000 ₫)" in body
    assert "350.000 ₫ (was 480.000 ₫)" in render(Template.ORDER_AMENDED, "en", PARAMS).body


def test_merge_and_split_say_which_parcels_and_the_new_amount() -> None:
    merged = render(Template.ORDER_MERGED, "vi", PARAMS).body
    assert "DHXYZ23456 đã được gộp vào đơn DHABC23456" in merged and "350.000 ₫ (trước đây 480.000 ₫)" in merged
    assert "DHXYZ23456 was merged into order DHABC23456" in render(Template.ORDER_MERGED, "en", PARAMS).body
    split = render(Template.ORDER_SPLIT, "vi", PARAMS).body
    assert "2 kiện (DHABC23456: 480.000 ₫; DHXYZ23456: 405.000 ₫)" in split
    assert "350.000 ₫ (was 480.000 ₫)" in render(Template.ORDER_SPLIT, "en", PARAMS).body


def test_a_missing_value_or_locale_is_an_error_not_a_blank() -> None:
    with pytest.raises(TemplateError, match="code"):
        render(Template.SHIPPED, "vi", {"shop": "Min"})
    with pytest.raises(TemplateError, match="locale"):
        render(Template.SHIPPED, "fr", PARAMS)


def test_zns_values_are_text_with_money_formatted() -> None:
    values = text_params({"cod": 350000, "changes": ["address", "items"], "points": 12, "none": None})
    assert values == {"cod": "350.000 ₫", "changes": "address, items", "points": "12"}


def test_a_template_is_read_from_disk_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The relay renders a message per amendment: the compiled template is reused without asking the disk
    whether it changed (before: a stat of the file per message)."""
    render(Template.ORDER_AMENDED, "vi", PARAMS)
    asked: list[str] = []
    real = os.path.getmtime

    def counted(path: str) -> float:
        asked.append(path)
        return real(path)

    monkeypatch.setattr(os.path, "getmtime", counted)
    for _ in range(3):
        assert "350.000 ₫" in render(Template.ORDER_AMENDED, "vi", PARAMS).body
    assert asked == []
