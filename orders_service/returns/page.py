"""The customer's page after delivery: a form to ask back some of what she kept, and her requests' state.

The form names each quantity `ret-<key>`, the key a digest of the variant (sku, size, colour), so a post made
from an older page still means the same items. Her words, errors included, come from the page's own words
(orders_service.links.words, the `public` catalogue), each error on its own field as the rest of the page does.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.engine import begin_write
from orders_service.db.models import Order as OrderRow
from orders_service.domain.errors import InvalidField, OrderNotAmendable
from orders_service.domain.model import OrderStatus
from orders_service.links import i18n, words
from orders_service.links.forms import FormError
from orders_service.links.services import customer, open_link
from orders_service.returns import rules, services
from orders_service.returns.schemas import ReturnItemOut, ReturnRequestsOut

REASON = "return_reason"
PREFIX = "ret-"
MAX_PER_ITEM = 99  # a select lists at most this many; more is asked of the shop


@dataclasses.dataclass
class ReturnForm:
    state: ReturnRequestsOut
    values: dict[str, str] = dataclasses.field(default_factory=dict)
    errors: dict[str, FormError] = dataclasses.field(default_factory=dict)
    notice: str | None = None  # return_sent
    status_code: int = 200


def field_of(sku: str, size: str | None, color: str | None) -> str:
    digest = hashlib.sha256("\x1f".join((sku, size or "", color or "")).encode()).hexdigest()[:12]
    return PREFIX + digest


async def for_page(session: AsyncSession, row: OrderRow, days: int, now: datetime.datetime) -> ReturnForm | None:
    """What the read-only page shows of returns: nothing before delivery; once the whole order came back, her
    requests still (no form: the window is closed for an order no longer delivered)."""
    if OrderStatus(row.status) not in rules.RETURNABLE | {OrderStatus.RETURNED}:
        return None
    return ReturnForm(await services.list_requests(session, row.id, days, now))


def _items(form: Mapping[str, str], returnable: list[ReturnItemOut]) -> tuple[list[services.Item], list[str]]:
    """The quantities she chose (0 or empty: not returned), and the form field of each item asked."""
    items: list[services.Item] = []
    fields: list[str] = []
    for item in returnable:
        field = field_of(item.sku, item.size, item.color)
        raw = form.get(field, "").strip() or "0"
        if not raw.isdigit() or int(raw) > MAX_PER_ITEM:
            raise FormError(field, "return.qty", max=str(item.quantity))
        if int(raw) > 0:
            items.append((item.sku, item.size, item.color, int(raw)))
            fields.append(field)
    if not items:
        raise FormError("return", "return.none")
    return items, fields


def _located(error: InvalidField, fields: list[str], returnable: list[ReturnItemOut]) -> FormError:
    """The service's field (`items[i].quantity`, `reason`) as the form's."""
    if error.field == "reason":
        return FormError(REASON, "return.reason")
    if error.field.startswith("items[") and "]" in error.field:
        index = error.field[len("items[") : error.field.index("]")]
        if index.isdigit() and int(index) < len(fields):
            left = next(
                (str(i.quantity) for i in returnable if field_of(i.sku, i.size, i.color) == fields[int(index)]), "0"
            )
            return FormError(fields[int(index)], "return.too_many", max=left)
    return FormError("return", "return.order")


async def ask(
    session: AsyncSession,
    token: str,
    form: Mapping[str, str],
    days: int,
    link_now: datetime.datetime,
    now: datetime.datetime,
) -> tuple[OrderRow, ReturnForm]:
    """Her request from the form: made (the page then shows it), or the form again with the reason by the field.

    `link_now` is what the link's own time is checked against (the wall clock, as the rest of the page);
    `now` is the clock the return window is counted on.
    """
    await begin_write(session)  # before the first read: SQLite cannot turn a reader into the writer later
    link, row = await open_link(session, token, link_now, to_change=False)
    state = (
        await services.list_requests(session, row.id, days, now)
        if OrderStatus(row.status) in rules.RETURNABLE
        else None
    )
    if state is None or state.window_ends_at is None:
        empty = state or ReturnRequestsOut(order_id=row.id, window_ends_at=None, returnable=[], items=[])
        return row, ReturnForm(empty, dict(form), {"return": FormError("return", "return.closed")}, status_code=409)
    values = {k: v for k, v in form.items() if k.startswith(PREFIX) or k == REASON}
    fields: list[str] = []
    try:
        items, fields = _items(form, state.returnable)
        await services.create_request(session, row.id, items, form.get(REASON, ""), customer(link), days, now)
    except FormError as error:
        return row, ReturnForm(state, values, {error.field: error}, status_code=422)
    except InvalidField as error:
        problem = _located(error, fields, state.returnable)
        return row, ReturnForm(state, values, {problem.field: problem}, status_code=422)
    except OrderNotAmendable:
        return row, ReturnForm(state, values, {"return": FormError("return", "return.closed")}, status_code=409)
    return row, ReturnForm(await services.list_requests(session, row.id, days, now), notice="return_sent")


def context(form: ReturnForm | None, lang: str, vnd: Callable[[int], str]) -> dict[str, Any] | None:
    """What the template shows: the choices (field, name, how many she may return), her requests, the errors."""
    if form is None:
        return None
    state = form.state

    def variant(item: Any) -> str:
        parts = [p for p in (item.size, item.color) if p]
        return f"{item.name} ({' / '.join(parts)})" if parts else item.name

    errors = {field: words.field_error(field, e.code, e.params, lang) for field, e in form.errors.items()}
    return {
        "open": state.window_ends_at is not None and bool(state.returnable),
        "until": None if state.window_ends_at is None else i18n.local_time(state.window_ends_at),
        "choices": [
            (field_of(i.sku, i.size, i.color), variant(i), min(i.quantity, MAX_PER_ITEM)) for i in state.returnable
        ],
        "chosen": form.values,  # not "values": the template reads it as a key of this dict
        "errors": errors,
        "first_error": next(iter(errors), None),
        "notice": None if form.notice is None else words.notice(form.notice, lang),
        "requests": [
            {
                "id": str(r.id),
                "state": r.state,
                "state_words": words.return_state(r.state, lang),
                "at": i18n.local_time(r.created_at),
                "what": ", ".join(f"{variant(i)} × {i.quantity}" for i in r.items),
                "refund": vnd(r.refund),
                "reason": r.reason,
                "answer": r.decision_reason,
            }
            for r in reversed(state.items)  # newest first
        ],
    }
