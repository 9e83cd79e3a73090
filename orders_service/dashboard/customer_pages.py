"""Customers: search by name or phone, the profile (stats, tier and progress, points, history, favourites,
spend over time), and merging duplicate profiles after a preview."""

from __future__ import annotations

import functools
import re
from typing import Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from orders_service.customers.merge import merge_customers
from orders_service.customers.schemas import CustomerMergeIn
from orders_service.customers.services import get_customer, search_customers
from orders_service.dashboard.chart import HEIGHT, WIDTH, bars, monthly, tier_progress
from orders_service.dashboard.i18n import N_, gettext
from orders_service.dashboard.pages import DashboardRequest, attempt, convert, end_read, form_of, one, page, problem_of
from orders_service.domain.errors import DomainError, InvalidField
from orders_service.infra import clock
from orders_service.infra.deps import DbSession
from orders_service.loyalty import services as loyalty
from orders_service.loyalty.program import program_of

PHONE_LIKE = re.compile(r"^[\d\s+().-]{9,}$")
# The program's own tier names (loyalty.tiers.DEFAULT_TIERS); a tier an admin named shows as she typed it.
TIER_LABELS = {"member": N_("Thành viên"), "standard": N_("Thân thiết"), "gold": N_("Vàng")}
SEGMENT_LABELS = {
    "new": N_("Khách mới"),
    "regular": N_("Khách quen"),
    "vip": N_("Khách VIP"),
    "at_risk": N_("Lâu chưa mua"),
    "birthday_this_month": N_("Sinh nhật tháng này"),
    "rfm_champions": N_("Khách tốt nhất (mua gần, nhiều, giá trị cao)"),
    "rfm_loyal": N_("Khách trung thành"),
    "rfm_promising": N_("Khách tiềm năng (một đơn gần đây)"),
    "rfm_cant_lose": N_("Khách lớn lâu chưa quay lại"),
    "rfm_hibernating": N_("Khách ngủ đông"),
}
LEDGER_LABELS = {
    "earn": N_("Tích điểm"),
    "reverse": N_("Trừ lại (trả hàng)"),
    "redeem": N_("Dùng điểm"),
    "expire": N_("Hết hạn"),
    "adjust": N_("Điều chỉnh"),
}


def label(table: dict[str, str], code: str | None) -> str:
    """A code in words in the page's language; a code the table does not know (a tier an admin typed) as is."""
    if not code:
        return "-"
    return gettext(table[code]) if code in table else code


async def search(session: DbSession, q: str) -> dict[str, Any]:
    """Digits are a phone in any form; anything else is words of the name, accents optional."""
    q = q.strip()[:120]
    if not q:
        rows, total = await search_customers(session, phone=None, q=None, limit=50, offset=0)
        return {"q": q, "customers": rows, "total": total, "problem": None}
    by_phone = bool(PHONE_LIKE.match(q))
    found, problem = await attempt(
        search_customers(session, phone=q if by_phone else None, q=None if by_phone else q, limit=50, offset=0)
    )
    rows, total = found or ([], 0)
    return {"q": q, "customers": rows, "total": total, "problem": problem}


async def profile_context(session: DbSession, customer_id: UUID) -> dict[str, Any]:
    now = clock.now()
    profile = await loyalty.profile(session, customer_id, now)
    history, _ = await loyalty.orders_of(session, customer_id, 20, 0)
    series = monthly(await loyalty.spend_history(session, customer_id), now)
    program = program_of(session)
    _, entries = await loyalty.points(session, customer_id, 1, 0)
    latest, _ = await loyalty.points(session, customer_id, 50, max(0, entries - 50))
    return {
        "profile": profile,
        "points": list(reversed(latest)),  # the newest 50, newest first
        "orders": history,
        "bars": bars(series),
        "chart": {"width": WIDTH, "height": HEIGHT, "total": sum(v for _, v in series)},
        "progress": tier_progress(program, profile.loyalty.tier, profile.loyalty.lifetime_spend),
        "tier": lambda code: label(TIER_LABELS, code),
        "segment": lambda code: label(SEGMENT_LABELS, code),
        "ledger": lambda code: label(LEDGER_LABELS, code),
    }


async def merge_step(session: DbSession, request: DashboardRequest, customer_id: UUID) -> Template | Redirect:
    form = await form_of(request)
    into = await get_customer(session, customer_id)
    context: dict[str, Any] = {"customer": into, **await search(session, one(form, "q"))}
    context["chosen"] = set(form.get("from", []))
    try:
        if not form.get("from"):
            raise InvalidField("from", N_("chọn các hồ sơ trùng cần gộp vào hồ sơ này"))
        data = convert(
            {"into": str(customer_id), "from": form["from"], "reason": one(form, "reason") or None}, CustomerMergeIn
        )
    except DomainError as error:
        return page("customer_merge.html", 422, **{**context, "problem": problem_of(error)})
    commit = one(form, "intent") == "commit"
    await end_read(session)
    result, problem = await attempt(merge_customers(session, data, request.user.actor, dry_run=not commit))
    if problem is not None or result is None:
        return page("customer_merge.html", problem.status if problem else 500, **{**context, "problem": problem})
    if commit:
        return Redirect(f"/dashboard/customers/{customer_id}", status_code=303)
    tier = functools.partial(label, TIER_LABELS)
    return page("customer_merge.html", preview=result[1], form=form, tier=tier, **context)


class CustomerPages(Controller):
    path = "/dashboard/customers"
    include_in_schema = False

    @get("/")
    async def customers(self, request: DashboardRequest, db_session: DbSession) -> Template:
        context = await search(db_session, request.query_params.get("q", ""))
        return page("customers.html", context["problem"].status if context["problem"] else 200, **context)

    @get("/{customer_id:uuid}")
    async def profile(self, db_session: DbSession, customer_id: FromPath[UUID]) -> Template:
        return page("profile.html", **await profile_context(db_session, customer_id))

    @get("/{customer_id:uuid}/merge")
    async def merge_form(
        self, request: DashboardRequest, db_session: DbSession, customer_id: FromPath[UUID]
    ) -> Template:
        customer = await get_customer(db_session, customer_id)
        found = await search(db_session, request.query_params.get("q", ""))
        return page("customer_merge.html", customer=customer, chosen=set(), **found)

    @post("/{customer_id:uuid}/merge", status_code=200)
    async def merge(
        self, request: DashboardRequest, db_session: DbSession, customer_id: FromPath[UUID]
    ) -> Template | Redirect:
        return await merge_step(db_session, request, customer_id)
