"""Why a COD statement's row may differ, in the page's language.

The COD service writes its explanation once, in English, for the API's readers and the stored statement
(orders_service.cod.classify.explain: clauses joined by "; "). The dashboard reads each clause back by its pattern
and says it in words: amounts as the shop writes them, statuses and event types in words. A clause no pattern
knows is shown as written (the service changed its wording: tests/unit/test_dashboard_cod_words.py says so)."""

from __future__ import annotations

import re

from orders_service.dashboard.i18n import N_, gettext
from orders_service.dashboard.pages import STATUS_LABELS, vnd
from orders_service.dashboard.timeline import EVENT_LABELS

AMOUNT = r"[\d,.]+ ₫"
CLAUSES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), words)
    for p, words in [
        (rf"the order's COD has been (?P<a>{AMOUNT}) since it was created", N_("COD của đơn là %(a)s từ khi tạo")),
        (
            rf"COD changed to (?P<a>{AMOUNT}) at v(?P<v>\d+) \((?P<event>\w+)\)",
            N_("COD đổi thành %(a)s ở phiên bản %(v)s (%(event)s)"),
        ),
        (r"order (?P<code>\S+) is (?P<status>\w+): nothing is due", N_("đơn %(code)s %(status)s: không phải thu gì")),
        (
            rf"order (?P<code>\S+) is (?P<status>\w+): (?P<a>{AMOUNT}) is due on delivery",
            N_("đơn %(code)s %(status)s: phải thu %(a)s khi giao"),
        ),
        (rf"the courier acknowledged v(?P<v>\d+) with (?P<a>{AMOUNT})", N_("hãng đã nhận phiên bản %(v)s với %(a)s")),
        (r"the courier acknowledged v(?P<v>\d+)", N_("hãng đã nhận phiên bản %(v)s")),
        (r"the courier never acknowledged a version", N_("hãng chưa nhận phiên bản nào")),
        (r"the amount collected is the COD of v(?P<v>\d+)", N_("số đã thu là COD của phiên bản %(v)s")),
        (rf"the courier's delivery report said (?P<a>{AMOUNT})", N_("báo cáo giao hàng của hãng ghi %(a)s")),
        (
            rf"collected (?P<a>{AMOUNT}), (?P<b>{AMOUNT}) more than the (?P<c>{AMOUNT}) due",
            N_("đã thu %(a)s, nhiều hơn %(b)s so với %(c)s phải thu"),
        ),
        (
            rf"collected (?P<a>{AMOUNT}), (?P<b>{AMOUNT}) less than the (?P<c>{AMOUNT}) due",
            N_("đã thu %(a)s, ít hơn %(b)s so với %(c)s phải thu"),
        ),
        (
            r"no order has (?P<courier>\w+) tracking code (?P<code>.+)",
            N_("không đơn nào có mã vận đơn %(code)s của %(courier)s"),
        ),
    ]
]


def _value(name: str, text: str) -> str:
    if name in ("a", "b", "c"):
        return vnd(int(re.sub(r"\D", "", text)))
    if name == "status":
        return gettext(STATUS_LABELS[text]) if text in STATUS_LABELS else text
    if name == "event":
        return gettext(EVENT_LABELS[text]) if text in EVENT_LABELS else text
    if name == "courier":
        return text.upper()
    return text


def clause_words(clause: str) -> str:
    for pattern, words in CLAUSES:
        found = pattern.fullmatch(clause.strip())
        if found:
            return gettext(words) % {k: _value(k, v) for k, v in found.groupdict().items()}
    return clause


def explanation_words(explanation: str | None) -> str:
    """ "collected 475,001 ₫, 4,999 ₫ less than the 480,000 ₫ due" -> "đã thu 475.001 ₫, ít hơn 4.999 ₫ ..." """
    if not explanation:
        return ""
    return "; ".join(clause_words(c) for c in explanation.split("; "))
