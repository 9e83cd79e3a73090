"""The page's use cases: show the order, preview or confirm the form's change, cancel.

What the staff API answers with a problem (a stale version, a bad value, a closed operation) the page answers
with the order again and the reason next to the field, so the customer can go on from there.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.db.engine import begin_write
from orders_service.db.models import EditLink
from orders_service.db.models import Order as OrderRow
from orders_service.domain.errors import InvalidField, OrderNotAmendable, OutOfStock, VersionMismatch
from orders_service.domain.model import Order, OrderStatus
from orders_service.links import services
from orders_service.links.forms import FormError, form_digest, form_operations, located
from orders_service.links.rules import READ_ONLY, Variant, customer_operations
from orders_service.orders import mapping
from orders_service.orders.discounts import DiscountPolicy
from orders_service.orders.services import amend_order, move_order


@dataclasses.dataclass
class PageView:
    row: OrderRow
    link: EditLink
    offers: dict[str, tuple[Variant, ...]]
    preview: Order | None = None  # the dry run's order, when the form's change was previewed
    form: Mapping[str, str] | None = None  # the values she sent, shown again; None shows the order's own
    errors: dict[str, FormError] = dataclasses.field(default_factory=dict)  # the form's field -> why
    notice: str | None = None  # saved | changed | cancelled
    previewed: str | None = None  # the digest of the previewed change: confirm is offered for it only
    status_code: int = 200
    read_only: bool = False  # after pickup or a merge: the page shows the order, its parcel and the shop


async def show(session: AsyncSession, token: str, now: datetime.datetime) -> PageView:
    link, row = await services.open_link(session, token, now, to_change=False)
    if row.status in READ_ONLY:
        return PageView(row, link, {}, read_only=True)
    return PageView(row, link, await services.offers(session, row))


async def refused(session: AsyncSession, token: str, now: datetime.datetime) -> PageView:
    """A change or cancel sent through a link that only shows the order now: the order as it is, and why (409)."""
    view = await show(session, token, now)
    if view.read_only:
        view.status_code, view.notice = 409, "read_only"
    return view


def _if_match(form: Mapping[str, str]) -> str:
    version = form.get("version", "").strip()
    return f'"{version}"' if version.isdigit() else '"0"'


async def submit(
    session: AsyncSession, token: str, form: Mapping[str, str], discounts: DiscountPolicy, now: datetime.datetime
) -> PageView:
    """Preview the change (a dry run), or save it if she confirms the very change she previewed."""
    digest = form_digest(form)
    confirm = form.get("action") == "confirm" and form.get("previewed") == digest
    if confirm:
        await begin_write(session)  # before the first read: SQLite cannot turn a reader into the writer later
    link, row = await services.open_link(session, token, now)
    offers = await services.offers(session, row)
    if _if_match(form) != f'"{row.version}"':
        # Her form was made from an older order: what she sees first is the order as it is now.
        return PageView(row, link, offers, notice="changed", status_code=412)
    sections: list[str] = []
    try:
        pairs = form_operations(mapping.to_domain(row), form, offers)
        sections = [section for section, _ in pairs]
        checked = customer_operations(mapping.to_domain(row), [op for _, op in pairs], offers)
        row, preview = await amend_order(
            session,
            row.id,
            _if_match(form),
            checked,
            None,
            services.customer(link),
            dry_run=not confirm,
            discounts=discounts,
        )
    except VersionMismatch:
        return PageView(row, link, offers, notice="changed", status_code=412)
    except InvalidField as error:
        problem = located(error, sections, form)
        return PageView(row, link, offers, form=form, errors={problem.field: problem}, status_code=422)
    except OrderNotAmendable as error:
        problem = FormError("form", "order", error.detail)
        return PageView(row, link, offers, form=form, errors={"form": problem}, status_code=409)
    except OutOfStock as error:  # on the line's quantity (or size) it names, in the page's words
        at = located(InvalidField(error.field, error.message), sections, form)
        problem = FormError(at.field, "out_of_stock", error.message)
        return PageView(row, link, offers, form=form, errors={problem.field: problem}, status_code=409)
    if confirm:
        return PageView(row, link, await services.offers(session, row), notice="saved")
    return PageView(row, link, offers, preview=preview, form=form, previewed=digest)


async def cancel(session: AsyncSession, token: str, form: Mapping[str, str], now: datetime.datetime) -> PageView:
    if form.get("really") == "yes":
        await begin_write(session)
    link, row = await services.open_link(session, token, now)
    offers = await services.offers(session, row)
    if form.get("really") != "yes":
        problem = FormError("really", "cancel", "tick the box to cancel")
        return PageView(row, link, offers, errors={"really": problem}, status_code=422)
    try:
        row = await move_order(session, row.id, _if_match(form), OrderStatus.CANCELLED, services.customer(link), None)
    except VersionMismatch:
        return PageView(row, link, offers, notice="changed", status_code=412)
    # A parcel at the courier is cancelled only once the courier confirms: the page says the cancel is asked.
    return PageView(row, link, offers, notice="cancel_requested" if row.pending_cancel else "cancelled")
