"""COD statement payloads: a statement in (JSON), a statement with its classified rows and totals out."""

from __future__ import annotations

import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from orders_service.cod.classify import RowStatus
from orders_service.cod.formats import MAX_ROWS, MAX_TRACKING, TRACKING
from orders_service.domain.model import Money
from orders_service.orders.schemas import Courier

TrackingCode = Annotated[
    str, Meta(min_length=1, max_length=MAX_TRACKING, pattern=f"^{TRACKING.pattern}$", description="the courier's")
]
REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$"
Reference = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=REFERENCE,
        description="the courier's own id of the statement (its reconciliation session), if it has one",
    ),
]


class StatementRowIn(Struct, frozen=True, forbid_unknown_fields=True):
    tracking_code: TrackingCode
    cod_collected: Money  # what the courier says it collected on the parcel, VND
    fee: Money  # what the courier charges for it (deducted from the transfer), VND


class StatementIn(Struct, frozen=True, forbid_unknown_fields=True):
    courier: Courier
    rows: Annotated[list[StatementRowIn], Meta(min_length=1, max_length=MAX_ROWS)]
    reference: Reference | None = None


class StatementRowOut(Struct, omit_defaults=True):
    tracking_code: str
    cod_collected: int
    fee: int
    status: RowStatus
    expected: int | None = None  # the COD the order says was due (matched and mismatch rows)
    explanation: str | None = None  # why a mismatch may be, from the order's events
    order_id: UUID | None = None
    order_code: str | None = None
    # The statement that counted this parcel first: shown again here, counted there only.
    already_on: UUID | None = None


class StatusTotal(Struct):
    rows: int
    cod_collected: int
    fee: int
    expected: int


class TotalsOut(Struct):
    """Money in whole VND. Rows `already_reconciled` on an earlier statement are in `rows`, nowhere else."""

    rows: int
    already_reconciled: int
    matched: StatusTotal
    mismatch: StatusTotal
    unknown: StatusTotal
    cod_collected: int  # what the courier collected on the rows counted
    fee: int
    payout: int  # cod_collected - fee: what the courier should transfer for them
    expected: int  # what the orders say was due on the matched and mismatched rows
    difference: int  # collected - expected on those rows: below 0, the courier owes the shop


class StatementOut(Struct):
    id: UUID
    courier: str
    reference: str | None
    source: str  # json | csv | ghn | ghtk
    created_at: datetime.datetime
    created_by: str
    rows: list[StatementRowOut]
    totals: TotalsOut


class StatementSummaryOut(Struct):
    """A statement in a list: its totals, without its rows."""

    id: UUID
    courier: str
    reference: str | None
    source: str
    created_at: datetime.datetime
    created_by: str
    row_count: int
    mismatches: int
    totals: TotalsOut
