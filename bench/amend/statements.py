"""The statements one amendment runs: the built-in capture, the write templates and the replay built from a capture."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# ---------------------------------------------------------------------------------------------------------------
# The statements one amendment runs. Each run captures what SQLAlchemy emits (bench/capture_amend_sql.py) and
# the raw-SQL mode replays that capture: reads verbatim with the order id, the four writes (matched against the
# templates below) with the values the app would write. The built-in lists are the capture as of this writing,
# used only when a capture fails or holds a statement the bench cannot replay.
# ---------------------------------------------------------------------------------------------------------------

_ORDER_COLUMNS = [
    "id", "code", "status", "version", "last_seq", "customer_id", "channel", "recipient_name", "recipient_phones",
    "address_line", "ward_code", "province_code", "shipping_fee", "shipping_payer", "discount_percent",
    "discount_reason", "paid", "subtotal", "discount_amount", "total", "cod_amount", "refund_due", "courier", "note",
    "merged_into_id", "split_from_id", "sa_orm_sentinel", "created_at", "updated_at",
]  # fmt: skip
_LINE_COLUMNS = [
    "order_id", "id", "position", "sku", "name", "size", "color", "unit_price", "quantity", "tryon_options", "kept",
    "sa_orm_sentinel",
]  # fmt: skip
_SHIPMENT_COLUMNS = [
    "order_id", "id", "courier", "client_code", "generation", "tracking_code", "status", "raw_status", "sync_state",
    "synced_version", "synced", "cod_amount", "fee", "last_error", "create_attempted", "lease_until", "status_at",
    "sa_orm_sentinel", "created_at", "updated_at",
]  # fmt: skip
_SELECT_ORDER = "SELECT " + ", ".join(f"orders.{c}" for c in _ORDER_COLUMNS) + " FROM orders WHERE orders.id = "
_SELECT_LINES = (
    "SELECT "
    + ", ".join(f"order_lines.{c} AS order_lines_{c}" for c in _LINE_COLUMNS)
    + " FROM order_lines WHERE order_lines.order_id IN ({}) ORDER BY order_lines.position"
)
_SELECT_SHIPMENT = (
    "SELECT "
    + ", ".join(f"shipments.{c} AS shipments_{c}" for c in _SHIPMENT_COLUMNS)
    + " FROM shipments WHERE shipments.order_id IN ({})"
)
_SELECT_MERGED = "SELECT orders.merged_into_id, orders.id FROM orders WHERE orders.merged_into_id IN ({})"
_EVENT_COLUMNS = (
    "id, order_id, seq, at, actor_kind, actor_id, type, reason, operations, changes, cod_before, cod_after, version"
)
_OUTBOX_COLUMNS = (
    "id, topic, {key}, payload, created_at, available_at, attempts, locked_until, processed_at, last_error"
)
_TSTZ = "TIMESTAMP WITH TIME ZONE"
# The columns the raw-SQL mode reads from the two SELECTs it interprets (found by name in the captured SELECT).
_ORDER_NEEDS = ("version", "shipping_fee", "shipping_payer", "discount_percent", "paid")
_LINE_NEEDS = ("id", "sku", "name", "size", "color", "unit_price", "quantity", "tryon_options", "kept")
WRITES = ("update_order", "insert_event", "insert_outbox", "update_line")
READS = ("order", "lines", "read")
# The columns each write may set: the bench computes these values (see write_values); any other column in a
# captured write makes the capture unreplayable.
WRITABLE = {
    "update_order": {
        "version", "last_seq", "subtotal", "discount_amount", "total", "cod_amount", "refund_due", "updated_at",
    },
    "insert_event": {
        "id", "order_id", "seq", "at", "actor_kind", "actor_id", "type", "reason", "operations", "changes",
        "cod_before", "cod_after", "version",
    },
    "insert_outbox": {
        "id", "topic", "key", "payload", "created_at", "available_at", "attempts", "locked_until", "processed_at",
        "last_error",
    },
    "update_line": {"quantity"},
}  # fmt: skip
_UPDATE = re.compile(r"^UPDATE (\w+) SET (.+) WHERE (\w+)\.id = (\?|\$\d+::UUID)$")
_INSERT = re.compile(r"^INSERT INTO (\w+) \((.+?)\) VALUES \((.+)\)$")
_WRITE_KINDS = {("UPDATE", "orders"): "update_order", ("UPDATE", "order_lines"): "update_line",
                ("INSERT", "order_events"): "insert_event", ("INSERT", "outbox"): "insert_outbox"}  # fmt: skip


def _pg_params(*types: str) -> str:
    return ", ".join(f"${i}::{t}" for i, t in enumerate(types, 1))


def _classify_write(sql: str) -> tuple[str, tuple[str, ...]] | None:
    """("update_order", ("version", ...)) for a write the bench knows, by table; None otherwise."""
    if (update := _UPDATE.match(sql)) and update[1] == update[3]:
        kind = _WRITE_KINDS.get(("UPDATE", update[1]))
        columns = tuple(part.split("=", 1)[0].strip() for part in update[2].split(", "))
    elif insert := _INSERT.match(sql):
        kind = _WRITE_KINDS.get(("INSERT", insert[1]))
        columns = tuple(part.strip().strip('"') for part in insert[2].split(", "))
    else:
        return None
    return (kind, columns) if kind is not None else None


@dataclass(frozen=True)
class Dialect:
    """How one database's amendment looks in a capture."""

    name: str
    begin: str | None  # the BEGIN a capture shows; None when the driver begins implicitly (asyncpg)
    builtin: tuple[str, ...]  # the whole capture as of this writing

    def one_parameter(self, statement: str) -> bool:
        if self.name == "sqlite":
            return statement.count("?") == 1
        return "$1" in statement and "$2" not in statement


SQLITE = Dialect(
    name="sqlite",
    begin="BEGIN IMMEDIATE",
    builtin=(
        "BEGIN IMMEDIATE",
        _SELECT_ORDER + "?",
        _SELECT_LINES.format("?"),
        _SELECT_SHIPMENT.format("?"),
        "UPDATE orders SET version=?, last_seq=?, subtotal=?, total=?, cod_amount=?, updated_at=? WHERE orders.id = ?",
        f"INSERT INTO order_events ({_EVENT_COLUMNS}) VALUES ({', '.join('?' * 13)})",
        f"INSERT INTO outbox ({_OUTBOX_COLUMNS.format(key=chr(34) + 'key' + chr(34))}) VALUES ({', '.join('?' * 10)})",
        "UPDATE order_lines SET quantity=? WHERE order_lines.id = ?",
        _SELECT_MERGED.format("?"),
        "COMMIT",
    ),
)
POSTGRES = Dialect(
    name="postgres",
    begin=None,
    builtin=(
        _SELECT_ORDER + "$1::UUID FOR UPDATE",
        _SELECT_LINES.format("$1::UUID"),
        _SELECT_SHIPMENT.format("$1::UUID"),
        "UPDATE orders SET version=$1::INTEGER, last_seq=$2::INTEGER, subtotal=$3::BIGINT, total=$4::BIGINT, "
        f"cod_amount=$5::BIGINT, updated_at=$6::{_TSTZ} WHERE orders.id = $7::UUID",
        f"INSERT INTO order_events ({_EVENT_COLUMNS}) VALUES ("
        + _pg_params("UUID", "UUID", "INTEGER", _TSTZ, "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "JSONB", "JSONB")
        + ", $11::BIGINT, $12::BIGINT, $13::INTEGER)",
        f"INSERT INTO outbox ({_OUTBOX_COLUMNS.format(key='key')}) VALUES ("
        + _pg_params("UUID", "VARCHAR", "VARCHAR", "JSONB", _TSTZ, _TSTZ, "INTEGER", _TSTZ, _TSTZ, "VARCHAR")
        + ")",
        "UPDATE order_lines SET quantity=$1::INTEGER WHERE order_lines.id = $2::UUID",
        _SELECT_MERGED.format("$1::UUID"),
        "COMMIT",
    ),
)


@dataclass(frozen=True)
class Replay:
    """The statements the raw-SQL mode issues per amendment: (kind, SQL, bound columns), and their source."""

    steps: tuple[tuple[str, str, tuple[str, ...]], ...]
    order_columns: dict[str, int]
    line_columns: dict[str, int]
    source: str  # "capture" or "built-in"


def _select_columns(statement: str) -> dict[str, int]:
    """{column name: position} of a SELECT as SQLAlchemy writes it ("t.c" or "t.c AS t_c")."""
    select_list = statement[len("SELECT ") : statement.index(" FROM ")]
    names = [item.split(" AS ")[0].rsplit(".", 1)[-1].strip() for item in select_list.split(", ")]
    return {name: i for i, name in enumerate(names)}


def build_replay(statements: Sequence[str], dialect: Dialect, source: str) -> tuple[Replay | None, list[str]]:
    """Classify each statement; return the replay, or None and what stops the bench from replaying it."""
    problems: list[str] = []
    steps: list[tuple[str, str, tuple[str, ...]]] = []
    for sql in statements:
        columns: tuple[str, ...] = ()
        if sql == "COMMIT":
            kind = "commit"
        elif dialect.begin is not None and sql == dialect.begin:
            kind = "begin"
        elif (write := _classify_write(sql)) is not None:
            kind, columns = write
            unknown = sorted(set(columns) - WRITABLE[kind])
            if unknown:
                problems.append(f"{kind} sets {', '.join(unknown)}, which the bench does not compute: {sql[:200]}")
        elif sql.startswith("SELECT ") and " FROM " in sql and dialect.one_parameter(sql):
            if " FROM orders WHERE orders.id = " in sql:
                kind = "order"
            elif " FROM order_lines WHERE order_lines.order_id IN (" in sql:
                kind = "lines"
            else:
                kind = "read"  # replayed verbatim with the order id
        else:
            problems.append(f"cannot replay: {sql[:300]}")
            continue
        steps.append((kind, sql, columns))
    found = [kind for kind, _, _ in steps]
    expected_once = [*WRITES, "order", "lines", "commit", *(["begin"] if dialect.begin else [])]
    problems += [
        f"expected one {kind!r} statement, found {found.count(kind)}"
        for kind in expected_once
        if found.count(kind) != 1
    ]
    if problems:
        return None, problems
    if found[-1] != "commit" or (dialect.begin and found[0] != "begin"):
        problems.append("BEGIN must come first and COMMIT last")
    first_write = min(found.index(kind) for kind in WRITES)
    if found.index("order") > first_write or found.index("lines") > first_write:
        problems.append("the order and its lines must be read before the first write")
    by_kind = {kind: sql for kind, sql, _ in steps}
    order_columns, line_columns = _select_columns(by_kind["order"]), _select_columns(by_kind["lines"])
    needs = [*_ORDER_NEEDS, *(["last_seq"] if "last_seq" in dict((k, c) for k, _, c in steps)["update_order"] else [])]
    problems += [f"the order SELECT lacks {c}" for c in needs if c not in order_columns]
    problems += [f"the lines SELECT lacks {c}" for c in _LINE_NEEDS if c not in line_columns]
    if problems:
        return None, problems
    return Replay(tuple(steps), order_columns, line_columns, source), []


def choose_replay(
    captured: list[str] | None, dialect: Dialect, capture_error: str | None
) -> tuple[Replay, dict[str, Any]]:
    """Replay the capture when possible, else the built-in list; describe the choice for the report."""
    check: dict[str, Any] = {
        "builtin_matches_capture": None if captured is None else tuple(captured) == dialect.builtin
    }
    if capture_error is not None:
        check["capture_error"] = capture_error
    if captured is not None:
        check["captured"] = captured
        replay, problems = build_replay(captured, dialect, "capture")
        if replay is not None:
            check["replayed"], check["statements"] = "capture", len(replay.steps)
            return replay, check
        check["problems"] = problems
    replay, problems = build_replay(dialect.builtin, dialect, "built-in")
    if replay is None:  # a bug in the lists above
        raise RuntimeError(f"the built-in {dialect.name} statements do not replay: {problems}")
    check["replayed"], check["statements"] = "built-in", len(replay.steps)
    return replay, check
