"""HTTP: merge orders into one parcel, split one into several, each with a dry run (staff API keys only)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody

from orders_service.infra.deps import DbSession, discounts_of, warehouse_of
from orders_service.infra.settings import Settings
from orders_service.orders import family, loader, mapping
from orders_service.orders.controllers import ETAG_HEADER, IfMatch, StaffRequest, answer
from orders_service.orders.family_schemas import MergeIn, SplitIn, SplitOut
from orders_service.orders.schemas import OrderOut
from orders_service.shipping.registry import CourierRegistry


class FamilyController(Controller):
    path = "/api/orders"
    tags = ["Merge and split"]  # noqa: RUF012

    @post(
        "/merge",
        status_code=201,
        response_headers=ETAG_HEADER,
        summary="Merge orders of one customer into one parcel; ?dry_run=true previews it (200) without saving",
        description="Conflicts (another customer, picked up, cancelled, already merged, waiting for a courier "
        "to confirm a cancel, changed since `versions`) are a 409 listing each order with its reason. Sources "
        "without a live courier parcel become `merged` at once (201). A source whose courier holds a parcel "
        "joins only once the courier confirmed its cancellation: it gets `pending_cancel` "
        "(`{requested_at, by, reason, for: merge, into}`), keeps its status and COD meanwhile, and the answer is "
        "202 with the survivor as it is so far. The relay asks the courier to cancel; on its confirmation the "
        "source is merged as here (recipient and address as chosen); if the courier refuses (picked up), the "
        "source stays as the courier has it with its COD, a `cancel_refused` event is recorded and staff are "
        "alerted. The money does not depend on which order survives: the discount is the customer's tier now, the "
        "shipping that of the `address_from` order. The survivor's courier order is created or updated through the "
        "outbox. A dry run never waits.",
        responses={
            202: ResponseSpec(
                data_container=OrderOut, description="Accepted: some sources wait for their courier (pending_cancel)"
            )
        },
    )
    async def merge(
        self,
        request: StaffRequest,
        db_session: DbSession,
        data: JSONBody[MergeIn],
        dry_run: FromQuery[bool] = False,
    ) -> Response[OrderOut]:
        row, preview = await family.merge_orders(db_session, data, request.user, discounts_of(request), dry_run=dry_run)
        waiting = not dry_run and bool(await family.pending_sources(db_session, data.order_ids))
        status = 200 if dry_run else 202 if waiting else 201
        return await answer(db_session, warehouse_of(request), row, status, preview, dry_run)

    @post(
        "/{order_id:uuid}/split",
        status_code=201,
        summary="Split an order into parts (If-Match required); ?dry_run=true previews them (200) without saving",
        description="Each part takes line quantities (a try-on line moves whole) and may have its own recipient "
        "and shipping. The original keeps the rest; what was paid is shared out by largest remainder. A part's "
        "fee, when not given, follows ORDERS_SPLIT_FEE (quote | same | shop).",
    )
    async def split(
        self,
        request: StaffRequest,
        db_session: DbSession,
        order_id: FromPath[UUID],
        data: JSONBody[SplitIn],
        if_match: IfMatch = None,
        dry_run: FromQuery[bool] = False,
    ) -> Response[SplitOut]:
        settings: Settings = request.app.state.settings
        couriers: CourierRegistry = request.app.state.couriers
        row, parts, previews = await family.split_order(
            db_session, order_id, if_match, data, request.user, couriers, settings, dry_run=dry_run
        )
        rows = [row, *parts]
        merged = await loader.merged_from(db_session, [r.id for r in rows if r in db_session])
        warehouse = warehouse_of(request)
        orders = [
            mapping.render(r, merged.get(r.id, []), warehouse, None if previews is None else previews[i])
            for i, r in enumerate(rows)
        ]
        headers = {"ETag": f'"{row.version}"'}
        if dry_run:
            headers["Preference-Applied"] = "dry-run"
        return Response(SplitOut(orders=orders), status_code=200 if dry_run else 201, headers=headers)
