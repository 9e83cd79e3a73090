"""Her own data on the dashboard (Decree 13/2023): correct the profile, download everything held about her, and
erase it (admins only, after a confirmation; the service audits both)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from orders_service.customers.export import export_customer
from orders_service.customers.privacy import erase_customer, update_customer
from orders_service.customers.schemas import CustomerPatch
from orders_service.customers.services import get_customer
from orders_service.dashboard.i18n import N_
from orders_service.dashboard.pages import (
    DashboardRequest,
    attempt,
    convert,
    end_read,
    form_of,
    one,
    page,
    problem_of,
)
from orders_service.dashboard.problems import message_words
from orders_service.dashboard.sessions import admins_only
from orders_service.domain.errors import DomainError, ErasureBlocked, InvalidField
from orders_service.infra.deps import DbSession

EDITABLE = ("full_name", "email", "birthday", "gender", "tags", "note")
CONFIRM_WORD = "XOÁ"  # typed as is in every language: a word she cannot type by accident


def blocking_words(conflicts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """ "DH...: the parcel is in the courier's hands..." -> the order's code and why, in the page's language."""
    shown = []
    for order_id, reason in conflicts:
        code, _, why = reason.partition(": ")
        shown.append((order_id, f"{code}: {message_words(why)}" if why else message_words(reason)))
    return shown


def patch_of(form: dict[str, list[str]]) -> CustomerPatch:
    """The form as a PATCH: every field is on the form, so an empty one clears it (the name excepted)."""
    values: dict[str, Any] = {k: one(form, k) or None for k in EDITABLE}
    values["full_name"] = one(form, "full_name")
    values["tags"] = [t.strip() for t in one(form, "tags").split(",") if t.strip()]
    return convert(values, CustomerPatch)


class CustomerDataPages(Controller):
    path = "/dashboard/customers/{customer_id:uuid}"
    include_in_schema = False

    @get("/edit")
    async def edit_form(self, db_session: DbSession, customer_id: FromPath[UUID]) -> Template:
        return page("customer_edit.html", customer=await get_customer(db_session, customer_id))

    @post("/edit", status_code=200)
    async def edit(
        self, request: DashboardRequest, db_session: DbSession, customer_id: FromPath[UUID]
    ) -> Template | Redirect:
        form = await form_of(request)
        customer = await get_customer(db_session, customer_id)
        try:
            data = patch_of(form)
        except DomainError as error:
            return page("customer_edit.html", 422, customer=customer, form=form, problem=problem_of(error))
        await end_read(db_session)
        _, problem = await attempt(update_customer(db_session, customer_id, data, request.user.actor))
        if problem is not None:
            return page("customer_edit.html", problem.status, customer=customer, form=form, problem=problem)
        return Redirect(f"/dashboard/customers/{customer_id}", status_code=303)

    @get("/export")
    async def export(
        self, request: DashboardRequest, db_session: DbSession, customer_id: FromPath[UUID]
    ) -> Response[bytes]:
        document = await export_customer(db_session, customer_id, request.user.actor)
        return Response(
            msgspec.json.encode(document),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="customer-{customer_id}.json"'},
        )

    @get("/erase", guards=[admins_only])
    async def erase_form(
        self, request: DashboardRequest, db_session: DbSession, customer_id: FromPath[UUID]
    ) -> Template:
        return page("customer_erase.html", customer=await get_customer(db_session, customer_id), word=CONFIRM_WORD)

    @post("/erase", status_code=200, guards=[admins_only])
    async def erase(
        self, request: DashboardRequest, db_session: DbSession, customer_id: FromPath[UUID]
    ) -> Template | Redirect:
        form = await form_of(request)
        customer = await get_customer(db_session, customer_id)
        context: dict[str, Any] = {"customer": customer, "word": CONFIRM_WORD}
        if one(form, "confirm").upper() != CONFIRM_WORD:
            problem = problem_of(InvalidField("confirm", N_("chưa gõ đúng chữ xác nhận")))
            return page("customer_erase.html", 422, problem=problem, **context)
        await end_read(db_session)
        try:
            await erase_customer(db_session, customer_id, request.user.actor)
        except ErasureBlocked as blocked:
            return page("customer_erase.html", 409, blocking=blocking_words(blocked.conflicts), **context)

        except DomainError as error:
            problem = problem_of(error)
            return page("customer_erase.html", problem.status, problem=problem, **context)
        return Redirect(f"/dashboard/customers/{customer_id}", status_code=303)
