"""COD statements ("Đối soát COD"): the statements with their totals per courier, mismatches first; one statement's
rows, mismatches first with why; and the orders delivered long ago that no statement has listed yet."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from orders_service.cod import listing
from orders_service.cod.classify import RowStatus
from orders_service.dashboard.cod_words import explanation_words
from orders_service.dashboard.i18n import N_
from orders_service.dashboard.pages import page
from orders_service.infra import clock
from orders_service.infra.deps import DbSession

PAGE_SIZE = 50
QUEUE_SIZE = 100
STATUS_LABELS = {"matched": N_("Khớp"), "mismatch": N_("Lệch"), "unknown": N_("Không rõ đơn")}

# Mismatches first, then parcels no order of ours has, then the ones that add up.
ROW_ORDER = {RowStatus.MISMATCH: 0, RowStatus.UNKNOWN: 1, RowStatus.MATCHED: 2}

PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=10_000)]


async def list_context(session: DbSession, days: int, number: int) -> dict[str, Any]:
    rows, total = await listing.list_statements(
        session, None, PAGE_SIZE, (number - 1) * PAGE_SIZE, mismatches_first=True
    )
    waiting, waiting_total = await listing.not_on_any_statement(session, days, QUEUE_SIZE, clock.now())
    return {
        "statements": [listing.summary_out(r) for r in rows],
        "total": total,
        "page": number,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "couriers": await listing.courier_totals(session),
        "waiting": waiting,
        "waiting_total": waiting_total,
        "days": days,
        "LABELS": STATUS_LABELS,
    }


class CodPages(Controller):
    path = "/dashboard/cod"
    include_in_schema = False

    @get("/")
    async def statements(
        self, request: Request[Any, Any, Any], db_session: DbSession, number: PageNumber = 1
    ) -> Template:
        days = request.app.state["settings"].cod_statement_days
        return page("cod.html", **await list_context(db_session, days, number))

    @get("/{statement_id:uuid}")
    async def statement(self, db_session: DbSession, statement_id: FromPath[UUID]) -> Template:
        found = await listing.statement_out(db_session, await listing.get_statement(db_session, statement_id))
        rows = sorted(found.rows, key=lambda r: (ROW_ORDER[r.status], r.already_on is not None))
        return page("cod_statement.html", statement=found, rows=rows, LABELS=STATUS_LABELS, explain=explanation_words)
