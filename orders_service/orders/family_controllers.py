"""HTTP: merge orders into one parcel, split one into several, each with a dry run (staff API keys only)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, post
from litestar.params import FromPath, FromQuery, JSONBody

from orders_service.deps import DbSession, Discounts, WarehouseDep
from orders_service.orders import family, mapping, services
from orders_service.orders.controllers import ETAG_HEADER, IfMatch, StaffRequest, answer
from orders_service.orders.family_schemas import MergeIn, SplitIn, SplitOut
from orders_service.orders.schemas import OrderOut
from orders_service.settings import Settings
from orders_service.shipping.registry import CourierRegistry


class FamilyController(Controller):
    path = "/api/orders"
    tags = ["Merge and split"]  # noqa: RUF012

    @post(
        "/merge",
        status_code=201,
        response_headers=ETAG_HEADER,
        summary="Merge orders of one customer into one parcel; ?dry_run=true previews it (200) without saving",
        description="Conflicts (another customer, picked up, cancelled, already merged, changed since `versions`) "
        "are a 409 listing each order with its reason. The sources become `merged` and their courier orders are "
        "cancelled; the survivor's courier order is created or updated through the outbox. The money does not depend "
        "on which order survives: the discount is the customer's tier now, the shipping that of the `address_from` "
        "order.",
    )
    async def merge(
        self,
        request: StaffRequest,
        db_session: DbSession,
        warehouse: WarehouseDep,
        discounts: Discounts,
        data: JSONBody[MergeIn],
        dry_run: FromQuery[bool] = False,
    ) -> Response[OrderOut]:
        row, preview = await family.merge_orders(db_session, data, request.user, discounts, dry_run=dry_run)
        return await answer(db_session, warehouse, row, 200 if dry_run else 201, preview, dry_run)

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
        warehouse: WarehouseDep,
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
        merged = await services.merged_from(db_session, [r.id for r in rows if r in db_session])
        orders = [
            mapping.render(r, merged.get(r.id, []), warehouse, None if previews is None else previews[i])
            for i, r in enumerate(rows)
        ]
        headers = {"ETag": f'"{row.version}"'}
        if dry_run:
            headers["Preference-Applied"] = "dry-run"
        return Response(SplitOut(orders=orders), status_code=200 if dry_run else 201, headers=headers)
