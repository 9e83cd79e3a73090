"""Message texts: one Jinja2 template per message and locale (Vietnamese first), rendered to subject and body."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from notifications.money import format_vnd
from notifications.policy import Purpose

FOLDER = Path(__file__).parent / "templates"
LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"


class Template(enum.StrEnum):
    ORDER_AMENDED = "order_amended"
    ORDER_MERGED = "order_merged"
    ORDER_SPLIT = "order_split"
    EDIT_LINK = "edit_link"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURN_APPROVED = "return_approved"
    RETURN_REJECTED = "return_rejected"
    SYNC_FAILED = "sync_failed"
    LABEL_REPLACED = "label_replaced"
    TIER_UPGRADED = "tier_upgraded"
    BIRTHDAY = "birthday"
    PROMOTION = "promotion"


# Marketing templates carry the [QC] label and an unsubscribe link; the others are about an order she placed.
PURPOSE: dict[Template, Purpose] = {
    Template.ORDER_AMENDED: Purpose.TRANSACTIONAL,
    Template.ORDER_MERGED: Purpose.TRANSACTIONAL,
    Template.ORDER_SPLIT: Purpose.TRANSACTIONAL,
    Template.EDIT_LINK: Purpose.TRANSACTIONAL,
    Template.SHIPPED: Purpose.TRANSACTIONAL,
    Template.DELIVERED: Purpose.TRANSACTIONAL,
    Template.RETURN_APPROVED: Purpose.TRANSACTIONAL,
    Template.RETURN_REJECTED: Purpose.TRANSACTIONAL,
    Template.SYNC_FAILED: Purpose.TRANSACTIONAL,
    Template.LABEL_REPLACED: Purpose.TRANSACTIONAL,
    Template.TIER_UPGRADED: Purpose.MARKETING,
    Template.BIRTHDAY: Purpose.MARKETING,
    Template.PROMOTION: Purpose.MARKETING,
}
MARKETING = frozenset(t for t, p in PURPOSE.items() if p is Purpose.MARKETING)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class TemplateError(ValueError):
    """A template was asked for with a value it needs missing, or in a locale we do not have."""


def _pick(key: str, table: Mapping[str, str]) -> str:
    return table.get(key, key)


@cache
def _environment() -> jinja2.Environment:
    # Plain text (SMS, Zalo, the text part of an email): nothing to escape; a missing value is an error, not "".
    # The templates ship with the code: each is compiled once per process, not looked at on disk (a stat) again
    # for every message.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(FOLDER),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters["vnd"] = format_vnd
    env.filters["pick"] = _pick
    return env


def render(template: Template | str, locale: str, params: Mapping[str, Any]) -> Rendered:
    if locale not in LOCALES:
        raise TemplateError(f"no locale {locale!r}; we have {', '.join(LOCALES)}")
    name = str(Template(template))
    try:
        module = _environment().get_template(f"{locale}/{name}.txt.j2").make_module(dict(params))
    except jinja2.UndefinedError as error:
        raise TemplateError(f"template {name}: {error.message}") from None
    return Rendered(subject=str(getattr(module, "subject", "")).strip(), body=str(module).strip())


MONEY_KEYS = frozenset({"cod", "cod_before", "cod_after", "amount"})


def text_params(params: Mapping[str, Any]) -> dict[str, str]:
    """The values as text, the way a ZNS template shows them: money as 350.000 ₫, lists joined."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if key in MONEY_KEYS and isinstance(value, int):
            out[key] = format_vnd(value)
        elif isinstance(value, list | tuple):
            out[key] = ", ".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out
