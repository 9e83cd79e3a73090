"""What the page templates show: the order (or its previewed change), the form's values, and the words."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec

from orders_service.db.models import Order as OrderRow
from orders_service.domain import phones
from orders_service.geo import Warehouse
from orders_service.geo.options import province_options, ward_options
from orders_service.infra.settings import Settings
from orders_service.links import i18n, words
from orders_service.links.flow import PageView
from orders_service.links.forms import PHONE_FIELDS, variant_value
from orders_service.links.readonly import shipment_of
from orders_service.links.schemas import PublicOrderOut, public_order
from orders_service.shop_settings.identity import ShopIdentity, identity_of


class AmountRow(msgspec.Struct):
    """A line of the amounts: what it is, its amount now and, when a change is previewed, after it."""

    key: str  # subtotal | discount | shipping | paid | cod
    label: str
    now: str
    after: str | None = None


def _parts(order: PublicOrderOut) -> dict[str, int]:
    shipping = order.shipping.fee if order.shipping.payer == "customer" else 0
    return {
        "subtotal": order.subtotal,
        "discount": order.discount.amount,
        "shipping": shipping,
        "paid": order.paid,
        "cod": order.cod_amount,
    }


def amount_rows(current: PublicOrderOut, preview: PublicOrderOut | None, lang: str) -> list[AmountRow]:
    """Goods, discount, shipping, paid and the amount to pay on delivery, now and after the previewed change;
    a line that is zero on both sides is left out (no "Giảm giá −0 ₫"), the goods and the amount due never."""
    now, after = _parts(current), None if preview is None else _parts(preview)
    percent = (preview or current).discount.percent or current.discount.percent
    rows = []
    for key, amount in now.items():
        new = None if after is None else after[key]
        if key in ("discount", "paid", "shipping") and not amount and not new:
            continue
        sign = "−" if key in ("discount", "paid") else ""  # taken off what she pays
        label = words._(words.AMOUNTS[key], lang)
        label = f"{label} ({percent}%)" if key == "discount" and percent else label
        shown = None if new is None else sign + i18n.vnd(new, lang)
        rows.append(AmountRow(key, label, sign + i18n.vnd(amount, lang), shown))
    return rows


def _language(lang: str) -> dict[str, Any]:
    """What every page's template needs of its language (its words come from `_()`, the `public` catalogue)."""
    other = words.other_language(lang)
    return {
        "lang": lang,
        "other_lang": other,
        "other_name": words.language_name(other),
        "status_words": lambda code: words.status(code, lang),
        "notice_words": lambda code: words.notice(code, lang),
    }


def _form_values(view: PageView) -> dict[str, str]:
    """The form's fields: what she sent, or the order as it is."""
    if view.form is not None:
        return dict(view.form)
    order = view.row
    values = {
        "name": order.recipient_name,
        "province": str(order.province_code),
        "ward": str(order.ward_code),
        "street": order.address_line,
    }
    for field, phone in zip(PHONE_FIELDS, [*order.recipient_phones, "", "", ""], strict=False):
        values[field] = phones.written(phone) if phone else ""
    for line in order.lines:
        values[f"qty-{line.id}"] = str(line.quantity)
        offers = view.offers.get(str(line.id), ())
        if offers:
            values[f"variant-{line.id}"] = variant_value(offers[0])
    return values


def page_context(
    view: PageView,
    base: str,
    lang: str,
    settings: Settings,
    warehouse: Warehouse,
    free_until: datetime.datetime | None = None,
    *,
    shop: ShopIdentity | None = None,
) -> dict[str, Any]:
    current = public_order(view.row, warehouse, view.offers, view.link.expires_at)
    preview = (
        None
        if view.preview is None
        else public_order(view.row, warehouse, view.offers, view.link.expires_at, view.preview)
    )
    values = _form_values(view)
    errors = {field: words.field_error(field, e.code, e.params, lang) for field, e in view.errors.items()}
    return {
        **_language(lang),
        "base": base,
        "order": current,
        "preview": preview,
        "values": values,
        "offers": {line_id: [(variant_value(v), v) for v in offers] for line_id, offers in view.offers.items()},
        "province_options": province_options(values.get("province")),
        "ward_options": ward_options(values.get("province", ""), values.get("ward")),
        "errors": errors,
        "first_error": next(iter(errors), None),
        "amounts": amount_rows(current, preview, lang),
        "expires": i18n.local_time(view.link.expires_at),
        "notice": view.notice,
        "previewed": view.previewed,
        "editable": view.notice != "cancelled",
        "shop": shop or identity_of(settings, None),
        "vnd": lambda amount: i18n.vnd(amount, lang),
        # The edit window's end (shipping/window.py), in Vietnam time: until then no courier order exists yet.
        "free_until": None if free_until is None else i18n.local_time(free_until),
    }


def read_only_context(
    view: PageView,
    after: OrderRow | None,
    lang: str,
    shop: ShopIdentity,
    warehouse: Warehouse,
    returns: dict[str, Any] | None = None,
    base: str = "",
) -> dict[str, Any]:
    """The page after pickup or a merge: the order, its parcel, the order it became (hers), and the shop; after
    delivery, her return requests and the form to ask for one (orders_service.returns.page)."""
    successor = None if after is None else public_order(after, warehouse, {}, view.link.expires_at)
    return {
        **_language(lang),
        "order": public_order(view.row, warehouse, {}, view.link.expires_at),
        "shipment": shipment_of(view.row),
        "successor": successor,
        "successor_shipment": None if after is None else shipment_of(after),
        "notice": view.notice,
        "shop": shop,
        "vnd": lambda amount: i18n.vnd(amount, lang),
        "phone": phones.written,
        "updated": i18n.local_time(view.row.updated_at),
        "courier": lambda name: words.courier(name, lang),
        "returns": returns,
        "base": base,
    }


def message_context(kind: str, lang: str, settings: Settings, *, shop: ShopIdentity | None = None) -> dict[str, Any]:
    title, body = words.message(kind, lang)
    return {
        **_language(lang),
        "title": title,
        "body": body,
        "shop": shop or identity_of(settings, None),
    }
