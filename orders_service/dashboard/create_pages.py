"""Staff create an order (a customer found by phone, else new) or a customer from the dashboard.

The work is the API's own use cases (`orders.services.create_order`, `customers.services.create_customer`) with
the API's own payloads: the pages only read the form and put each refusal on the field it is about, in words.
A refusal leaves nothing saved: the request's transaction is rolled back on any answer but 2xx/3xx.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from orders_service.catalogue import services as catalogue
from orders_service.catalogue.schemas import ProductOut
from orders_service.customers.schemas import CustomerIn, Source
from orders_service.customers.services import create_customer, get_customer
from orders_service.dashboard.i18n import gettext
from orders_service.dashboard.new_order_form import (
    CATALOGUE_ROWS,
    OTHER_ROWS,
    Rows,
    catalogue_line,
    form_field,
    order_in,
    phones,
    read_rows,
    variant_token,
)
from orders_service.dashboard.pages import DashboardRequest, FormProblem, convert, end_read, form_of, one, page
from orders_service.dashboard.problems import detail_words
from orders_service.domain.errors import DomainError, InvalidField, PhoneTaken
from orders_service.domain.operations import LineIn
from orders_service.geo import AddressError, provinces, wards
from orders_service.infra.deps import DbSession, discounts_of
from orders_service.infra.problems import DOMAIN_PROBLEMS
from orders_service.orders import services
from orders_service.orders.discounts import DiscountPolicy

CATALOGUE_SHOWN = 500  # variants offered in the picker's list; any SKU can still be typed


def _typed(form: dict[str, list[str]]) -> list[str]:
    return [one(form, f"item_{k}") for k in range(CATALOGUE_ROWS)]


async def catalogue_products(session: DbSession, typed: Iterable[str]) -> dict[str, ProductOut]:
    """The catalogue's products for the picker, and any SKU typed (`typed`: tokens) that its first page left out."""
    rows, _ = await catalogue.search_products(session, q=None, limit=CATALOGUE_SHOWN, offset=0)
    found = {row.sku: catalogue.to_out(row) for row in rows}
    for token in typed:
        sku = token.split("·")[0].split(" ")[0].strip()
        # Only what could be a SKU is looked up: a NUL or 5,000 characters typed there are refused by the form's
        # own check, not sent to the database (PostgreSQL fails on a NUL in a query's text).
        if sku and sku.isprintable() and len(sku) <= 64 and sku not in found and sku.upper() not in found:
            try:
                product = await catalogue.get_product(session, sku)
            except DomainError:
                continue  # not in the catalogue: the row says so
            found[product.sku] = catalogue.to_out(product)
    return found


def _wards_of(province: str) -> list[tuple[int, str]]:
    try:
        # as typed: only a short run of ASCII digits reaches int() (5,000 digits would raise, not be refused)
        return wards(int(province)) if province.isascii() and province.isdigit() and len(province) <= 6 else []

    except AddressError:
        return []


async def added_lines(session: DbSession, form: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The amend form's line from the catalogue (`add_item`, `add_qty`), as the API's `add_line` takes it."""
    token = one(form, "add_item")
    if not token:
        return []
    products = await catalogue_products(session, [token])
    try:
        line = catalogue_line(token, one(form, "add_qty") or "1", products)
    except InvalidField as error:
        raise InvalidField("sku", error.message) from None
    return [msgspec.to_builtins(convert(line, LineIn))]


def offers(products: dict[str, ProductOut]) -> list[tuple[str, str]]:
    """(token, label) of each variant with stock: "DRESS-01 · M · red", "Đầm hoa · 450.000 ₫ · còn 5"."""
    return [
        (variant_token(p.sku, v.size, v.color), f"{p.name} · {v.price:,} ₫ · {v.available}".replace(",", "."))
        for p in products.values()
        for v in p.variants
        if v.available > 0
    ]


def _where(error: DomainError, rows: Rows, typed_address: bool) -> tuple[str, FormProblem]:
    status = next((v[0] for k, v in DOMAIN_PROBLEMS.items() if isinstance(error, k)), 400)
    field, detail = detail_words(error)
    if isinstance(error, PhoneTaken):
        return "customer_phones", FormProblem(detail=detail, status=status, field=field)
    name = form_field(str(getattr(error, "field", "")), rows, typed_address)
    return name, FormProblem(detail=detail, status=status, field=field)


def order_context(form: dict[str, list[str]], products: dict[str, ProductOut]) -> dict[str, Any]:
    values = {k: v[0] for k, v in form.items() if v and k != "_csrf_token"}
    province = values.get("province_code", "")
    return {
        "values": values,
        "offers": offers(products),
        "catalogue_rows": range(CATALOGUE_ROWS),
        "other_rows": range(OTHER_ROWS),
        "provinces": provinces(),
        "wards": _wards_of(province),
        "channels": [s.value for s in Source],
        "errors": {},
    }


async def create_order_step(
    session: DbSession, discounts: DiscountPolicy, request: DashboardRequest
) -> Template | Redirect:
    form = await form_of(request)
    products = await catalogue_products(session, _typed(form))
    context = order_context(form, products)
    errors: dict[str, str] = context["errors"]
    rows = read_rows(form, products, errors)
    typed = bool(one(form, "address_text"))
    try:
        data = order_in(form, rows, errors)
        if data is None:  # the page's own checks refused it: each on its field, nothing sent
            errors.update({name: gettext(message) for name, message in errors.items()})
            return page("order_new.html", 422, **context)
        await end_read(session)
        row = await services.create_order(session, data, request.user.actor, discounts)
    except DomainError as error:
        name, problem = _where(error, rows, typed)
        errors[name] = problem.detail
        return page("order_new.html", problem.status, problem=problem, **context)
    return Redirect(f"/dashboard/orders/{row.id}", status_code=303)


async def create_customer_step(session: DbSession, request: DashboardRequest) -> Template | Redirect:
    form = await form_of(request)
    values = {k: v[0] for k, v in form.items() if v and k != "_csrf_token"}
    errors: dict[str, str] = {}
    fields = {"full_name": "full_name", "phones": "phones", "email": "email", "birthday": "birthday"}
    try:
        given = {k: one(form, k) for k in ("full_name", "email", "birthday", "source") if one(form, k)}
        data = convert({**given, "phones": phones(one(form, "phones"))}, CustomerIn)
        await end_read(session)
        customer = await create_customer(session, data)
    except DomainError as error:
        status = next((v[0] for k, v in DOMAIN_PROBLEMS.items() if isinstance(error, k)), 400)
        field, detail = detail_words(error)
        path = str(getattr(error, "field", "phones" if isinstance(error, PhoneTaken) else ""))
        name = next((v for k, v in fields.items() if path.startswith(k)), "form")
        errors[name] = detail
        taken = error.customer_id if isinstance(error, PhoneTaken) else None
        problem = FormProblem(detail=detail, status=status, field=field)
        context = {"values": values, "errors": errors, "problem": problem, "taken": taken}
        return page("customer_new.html", status, channels=[s.value for s in Source], **context)
    return Redirect(f"/dashboard/customers/{customer.id}", status_code=303)


class CreatePages(Controller):
    path = "/dashboard"
    include_in_schema = False

    @get("/orders/new")
    async def new_order(self, db_session: DbSession, customer_id: FromQuery[UUID | None] = None) -> Template:
        """The empty form; from a customer's profile, her name and phones filled in."""
        form: dict[str, list[str]] = {}
        if customer_id is not None:
            customer = await get_customer(db_session, customer_id)
            numbers = "\n".join(p.e164 for p in customer.phones)
            form = {"customer_name": [customer.full_name], "customer_phones": [numbers]}
        return page("order_new.html", **order_context(form, await catalogue_products(db_session, _typed(form))))

    @post("/orders/new", status_code=200)
    async def create_order(self, request: DashboardRequest, db_session: DbSession) -> Template | Redirect:
        return await create_order_step(db_session, discounts_of(request), request)

    @get("/customers/new")
    async def new_customer(self) -> Template:
        return page("customer_new.html", values={}, errors={}, channels=[s.value for s in Source])

    @post("/customers/new", status_code=200)
    async def create_customer(self, request: DashboardRequest, db_session: DbSession) -> Template | Redirect:
        return await create_customer_step(db_session, request)
