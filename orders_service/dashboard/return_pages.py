"""Return requests in the dashboard: the open ones in a list from the nav, approve or reject from a form.

The order's page lists its requests (order_page.order_context); the decisions post here, with the CSRF token
like every form, and come back to the page they were made from. A refusal (decided meanwhile, the order no
longer delivered) is shown as a page in the staff's language.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from orders_service.dashboard.pages import DashboardRequest, end_read, form_of, one, page
from orders_service.domain.errors import InvalidField
from orders_service.infra import clock
from orders_service.infra.deps import DbSession
from orders_service.returns import services
from orders_service.returns.models import ReturnRequest

MAX_NOTE = 500
Decision = Callable[..., Awaitable[ReturnRequest]]  # services.approve or services.reject


class ReturnPages(Controller):
    path = "/dashboard"
    include_in_schema = False

    @get("/returns")
    async def open_requests(self, db_session: DbSession) -> Template:
        items, total = await services.open_requests(db_session, 100, 0)
        return page("returns.html", requests=items, total=total)

    @post("/return-requests/{request_id:uuid}/approve")
    async def approve(self, request: DashboardRequest, db_session: DbSession, request_id: FromPath[UUID]) -> Redirect:
        return await _decide(request, db_session, request_id, services.approve)

    @post("/return-requests/{request_id:uuid}/reject")
    async def reject(self, request: DashboardRequest, db_session: DbSession, request_id: FromPath[UUID]) -> Redirect:
        return await _decide(request, db_session, request_id, services.reject)


async def _decide(request: DashboardRequest, session: DbSession, request_id: UUID, act: Decision) -> Redirect:
    """Approve or reject with the staff's note; back to the list or the order it came from."""
    form = await form_of(request)
    note = " ".join(one(form, "reason").split()) or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidField("reason", f"length <= {MAX_NOTE}")
    await end_read(session)
    done = await act(session, request_id, request.user.actor, note, clock.now())
    back = "/dashboard/returns" if one(form, "back") == "returns" else f"/dashboard/orders/{done.order_id}"
    return Redirect(f"{back}#return-{request_id}", status_code=303)
