"""Bench orders and the domain arithmetic the raw-SQL mode needs (mirrors orders_service.domain.money and .diff)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from benchlib.servers import (
    ACTOR,
)
from uuid_utils.compat import uuid7

from amend.statements import Replay

# ---------------------------------------------------------------------------------------------------------------
# Orders and the domain arithmetic the raw-SQL mode needs (mirrors orders_service.domain.money and .diff).
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class BenchOrder:
    """An order created for the run; only the worker that owns it touches it."""

    id: UUID
    line_id: UUID
    version: int
    quantity: int

    def next_quantity(self) -> int:
        return self.quantity % 5 + 1  # 1..5, always a change


@dataclass(frozen=True)
class Plan:
    """The values one amendment writes."""

    version: int
    seq: int
    quantity: int
    totals: dict[str, int]
    cod_before: int
    operations: str
    changes: str
    outbox: dict[str, tuple[str, str]]  # topic: (key, payload), for each topic the app writes


class StepError(Exception):
    """An amendment that did not succeed: `label` is what the error count shows, `detail` an optional sample."""

    def __init__(self, label: str, detail: str | None = None) -> None:
        super().__init__(label)
        self.label, self.detail = label, detail


def _totals(lines: Sequence[dict[str, Any]], fee: int, payer: str, percent: int, paid: int) -> dict[str, int]:
    subtotal = sum((line.get("unit_price") or 0) * line["quantity"] for line in lines)
    discount = subtotal * percent // 100
    total = subtotal - discount + (fee if payer == "customer" else 0)
    return {
        "subtotal": subtotal,
        "discount_amount": discount,
        "total": total,
        "cod_amount": max(0, total - paid),
        "refund_due": max(0, paid - total),
    }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _line_view(row: Sequence[Any], columns: dict[str, int]) -> dict[str, Any]:
    """An order_lines row as domain.diff shows a line: no id, no None values, JSON decoded."""
    view = {
        "sku": row[columns["sku"]],
        "name": row[columns["name"]],
        "quantity": row[columns["quantity"]],
        "size": row[columns["size"]],
        "color": row[columns["color"]],
        "unit_price": row[columns["unit_price"]],
        "tryon_options": _json(row[columns["tryon_options"]]),
        "kept": _json(row[columns["kept"]]),
    }
    return {k: v for k, v in view.items() if v is not None}


def plan_amendment(
    order: BenchOrder, order_row: Sequence[Any], line_rows: Sequence[Sequence[Any]], replay: Replay
) -> Plan:
    """Check the version as the app does (If-Match), then compute the new totals, the event and the outbox."""
    o, li = replay.order_columns, replay.line_columns
    if order_row[o["version"]] != order.version:
        raise StepError("version mismatch")
    line_ids = [as_uuid(row[li["id"]]) for row in line_rows]
    if order.line_id not in line_ids:
        raise StepError("line not found")
    quantity = order.next_quantity()
    before = [_line_view(row, li) for row in line_rows]
    after = [
        dict(view, quantity=quantity) if i == order.line_id else view for i, view in zip(line_ids, before, strict=True)
    ]
    money = (order_row[o["shipping_fee"]], order_row[o["shipping_payer"]], order_row[o["discount_percent"]])
    old, new = _totals(before, *money, order_row[o["paid"]]), _totals(after, *money, order_row[o["paid"]])
    index = line_ids.index(order.line_id)
    changes: dict[str, Any] = {f"lines.{order.line_id}": {"before": before[index], "after": after[index]}}
    changes.update({k: {"before": old[k], "after": new[k]} for k in old if old[k] != new[k]})
    version = order.version + 1
    # Events are numbered by orders.last_seq where the schema has it (migration 0003), else by version.
    seq = order_row[o["last_seq"]] + 1 if "last_seq" in o else version
    operations = [{"op": "set_quantity", "line_id": str(order.line_id), "quantity": quantity}]
    changed = {
        "order_id": str(order.id),
        "version": version,
        "cod_amount": new["cod_amount"],
        "changed": sorted(changes),
    }
    # The customer's message about it, made later by the relay (messaging/triggers.order_amended).
    message = {
        "order_id": str(order.id),
        "customer_id": str(as_uuid(order_row[o["customer_id"]])),
        "code": order_row[o["code"]],
        "changes": ["items"],
        "cod_before": old["cod_amount"],
        "cod_after": new["cod_amount"],
    }
    return Plan(
        version=version,
        seq=seq,
        quantity=quantity,
        totals=new,
        cod_before=old["cod_amount"],
        operations=json.dumps(operations),
        changes=json.dumps(changes),
        outbox={
            "order.amended": (str(order.id), json.dumps(changed)),
            "notifications.order_amended": (f"amended:{order.id}:v{version}", json.dumps(message)),
        },
    )


def write_values(
    kind: str, columns: tuple[str, ...], plan: Plan, order: BenchOrder, now: Any, sqlite: bool, topics: Sequence[str]
) -> tuple[Any, ...]:
    """A write's parameters, by column name, bound as SQLAlchemy binds them (GUIDs: 16 bytes on SQLite); for
    an outbox INSERT, every row's in turn (`topics`: the topic of each row)."""

    def uid(value: UUID) -> Any:
        return value.bytes if sqlite else str(value)

    if kind == "update_line":
        return (plan.quantity, uid(order.line_id))
    if kind == "update_order":
        values = {"version": plan.version, "last_seq": plan.seq, "updated_at": now, **plan.totals}
        return (*(values[c] for c in columns), uid(order.id))
    if kind == "insert_event":
        values = {
            "id": uid(uuid7()), "order_id": uid(order.id), "seq": plan.seq, "at": now, "actor_kind": "staff",
            "actor_id": ACTOR, "type": "amended", "reason": None, "operations": plan.operations,
            "changes": plan.changes, "cod_before": plan.cod_before, "cod_after": plan.totals["cod_amount"],
            "version": plan.version, "sa_orm_sentinel": None,
        }  # fmt: skip
        return tuple(values[c] for c in columns)
    flat: list[Any] = []
    for topic in topics:
        key, payload = plan.outbox[topic]
        values = {
            "id": uid(uuid7()), "topic": topic, "key": key, "payload": payload, "created_at": now,
            "available_at": now, "attempts": 0, "locked_until": None, "processed_at": None, "last_error": None,
            "dead_at": None, "sa_orm_sentinel": None,
        }  # fmt: skip
        flat.extend(values[c] for c in columns)
    return tuple(flat)


def as_uuid(value: Any) -> UUID:
    """A GUID column's value: 16 bytes on SQLite, asyncpg's own UUID type on PostgreSQL."""
    return UUID(bytes=bytes(value)) if isinstance(value, bytes | memoryview) else UUID(str(value))


def sqlite_time(moment: datetime.datetime) -> str:
    """How SQLAlchemy's SQLite DATETIME stores an (UTC) DateTimeUTC value."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
