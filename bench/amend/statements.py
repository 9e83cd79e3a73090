"""The statements one amendment runs, as captured from the app, and the replay the raw-SQL mode builds from them.

Each run captures what SQLAlchemy sends for one amendment (bench/capture_amend_sql.py) and the raw-SQL mode
replays exactly that: the reads with the order's (or its customer's) id, the writes with the values the app
would write. There is no built-in fallback: a capture that fails, or holds a statement the bench cannot
replay, fails the database's run (`ReplayError`), so the baseline can never drift from the app unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The columns the raw-SQL mode reads from the order's SELECT (found by table and name in the captured SELECT).
_ORDER_NEEDS = ("version", "shipping_fee", "shipping_payer", "discount_percent", "paid", "customer_id", "code")
_LINE_NEEDS = ("id", "sku", "name", "size", "color", "unit_price", "quantity", "tryon_options", "kept")
WRITES = ("update_order", "insert_event", "insert_outbox", "update_line")
READS = ("order", "lines", "read")
# The outbox topics whose payload the bench computes (amend/domain.py), in the order the app adds them.
OUTBOX_TOPICS = ("order.amended", "notifications.order_amended")
# The columns each write may set: the bench computes these values (see domain.write_values); any other column
# in a captured write makes the capture unreplayable.
WRITABLE = {
    "update_order": {
        "version", "last_seq", "subtotal", "discount_amount", "total", "cod_amount", "refund_due", "updated_at",
    },
    "insert_event": {
        "id", "order_id", "seq", "at", "actor_kind", "actor_id", "type", "reason", "operations", "changes",
        "cod_before", "cod_after", "version", "sa_orm_sentinel",
    },
    "insert_outbox": {
        "id", "topic", "key", "payload", "created_at", "available_at", "attempts", "locked_until", "processed_at",
        "last_error", "dead_at", "sa_orm_sentinel",
    },
    "update_line": {"quantity"},
}  # fmt: skip
_UPDATE = re.compile(r"^UPDATE (\w+) SET (.+) WHERE (\w+)\.id = (\?|\$\d+::UUID)$")
_INSERT = re.compile(r"^INSERT INTO (\w+) \((.+?)\) VALUES (\(.+\))$")
_WRITE_KINDS = {("UPDATE", "orders"): "update_order", ("UPDATE", "order_lines"): "update_line",
                ("INSERT", "order_events"): "insert_event", ("INSERT", "outbox"): "insert_outbox"}  # fmt: skip
_ALIAS = re.compile(r"_\d+$")  # order_lines_1 -> order_lines


class ReplayError(Exception):
    """The capture cannot be replayed: the raw-SQL baseline would not be the app's SQL."""


def _top_level(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside parentheses."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            i += len(separator)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _classify_write(sql: str) -> tuple[str, tuple[str, ...], int] | None:
    """("update_order", ("version", ...), rows) for a write the bench knows, by table; None otherwise."""
    if (update := _UPDATE.match(sql)) and update[1] == update[3]:
        kind = _WRITE_KINDS.get(("UPDATE", update[1]))
        columns = tuple(part.split("=", 1)[0].strip() for part in update[2].split(", "))
        rows = 1
    elif insert := _INSERT.match(sql):
        kind = _WRITE_KINDS.get(("INSERT", insert[1]))
        columns = tuple(part.strip().strip('"') for part in insert[2].split(", "))
        rows = len(_top_level(insert[3], ", "))  # insertmanyvalues: several rows in one statement
    else:
        return None
    return (kind, columns, rows) if kind is not None else None


def select_columns(statement: str) -> dict[tuple[str, str], int]:
    """{(table, column): position} of a SELECT as SQLAlchemy writes it ("t.c", "t_1.c AS c_1", expressions)."""
    body = statement[len("SELECT ") :]
    select_list = _top_level(body, " FROM ")[0]
    found: dict[tuple[str, str], int] = {}
    for i, item in enumerate(_top_level(select_list, ", ")):
        expression = _top_level(item, " AS ")[0].strip()
        if re.fullmatch(r"\w+\.\w+", expression):
            table, column = expression.split(".")
            found.setdefault((_ALIAS.sub("", table), column), i)
    return found


@dataclass(frozen=True)
class Dialect:
    """How one database's amendment looks in a capture."""

    name: str
    begin: str | None  # the BEGIN a capture shows; None when the driver begins implicitly (asyncpg)

    def parameters(self, statement: str) -> int:
        if self.name == "sqlite":
            return statement.count("?")
        return len(set(re.findall(r"\$(\d+)", statement)))


SQLITE = Dialect(name="sqlite", begin="BEGIN IMMEDIATE")
POSTGRES = Dialect(name="postgres", begin=None)


@dataclass(frozen=True)
class Step:
    kind: str  # begin, commit, order, lines, read, one of WRITES, or "writes" (several in one statement)
    sql: str
    columns: tuple[str, ...] = ()  # a write's columns
    rows: int = 1  # an INSERT's rows
    binds: str = "order"  # a read's one parameter: the order's id, its customer's, or its line's SKU
    parts: tuple[Step, ...] = ()  # "writes": each write of the statement, in the order its text has them
    numbers: tuple[int, ...] = ()  # a part's PostgreSQL parameter numbers ($N), in the order its text has them

    def flat(self) -> tuple[Step, ...]:
        return self.parts or (self,)


@dataclass(frozen=True)
class Replay:
    """The statements the raw-SQL mode issues per amendment, and where it finds the order and its lines."""

    steps: tuple[Step, ...]
    order_columns: dict[str, int]
    line_columns: dict[str, int]
    lines_joined: bool  # the lines come with the order's SELECT (one row per line), not a SELECT of their own
    outbox_topics: tuple[str, ...]  # one per outbox row written, in order


def _read(sql: str, dialect: Dialect) -> Step | str:
    """A SELECT the bench can replay, or why not."""
    if dialect.parameters(sql) != 1:
        return f"a SELECT with {dialect.parameters(sql)} parameters: {sql[:300]}"
    where = _top_level(sql[len("SELECT ") :], " FROM ")[-1]
    if re.search(r"\bFROM orders\b", "FROM " + where) and re.search(r"WHERE orders\.id = ", where):
        return Step("order", sql)
    if re.search(r"WHERE order_lines\.order_id IN \(", where):
        return Step("lines", sql)
    if re.search(r"WHERE \w+\.customer_id = ", where):
        return Step("read", sql, binds="customer")
    if re.search(r"WHERE \w+\.(order_id|merged_into_id) (=|IN \()", where):
        return Step("read", sql, binds="order")
    if re.search(r"WHERE products\.sku IN \(", where):  # the catalogue's variants of the order's SKUs
        return Step("read", sql, binds="sku")
    return f"a SELECT whose parameter the bench cannot tell: {sql[:300]}"


def _with_parts(sql: str) -> list[str] | None:
    """The statements of `WITH a AS (s1), b AS (s2) s3` (PostgreSQL's data-modifying WITH): [s1, s2, s3]."""
    rest, parts = sql[len("WITH ") :], []
    while (head := re.match(r"\w+ AS \(", rest)) is not None:
        depth, i = 1, head.end()
        while depth and i < len(rest):
            depth += {"(": 1, ")": -1}.get(rest[i], 0)
            i += 1
        parts.append(rest[head.end() : i - 1])
        rest = rest[i:].removeprefix(",").lstrip()
    return [*parts, rest] if parts and rest else None


def _write_step(sql: str, problems: list[str]) -> Step | None:
    """A write the bench can compute the values of; None if not a known write (the caller says so)."""
    write = _classify_write(sql)
    if write is None:
        return None
    kind, columns, rows = write
    unknown = sorted(set(columns) - WRITABLE[kind])
    if unknown:
        problems.append(f"{kind} sets {', '.join(unknown)}, which the bench does not compute: {sql[:200]}")
    return Step(kind, sql, columns, rows, numbers=tuple(int(n) for n in re.findall(r"\$(\d+)", sql)))


def _writes_step(sql: str, problems: list[str]) -> Step | None:
    """Several writes in one statement (WITH ... INSERT); None if it is not only writes the bench knows."""
    texts = _with_parts(sql) if sql.startswith("WITH ") else None
    if texts is None:
        return None
    parts = [_write_step(text, problems) for text in texts]
    if any(part is None for part in parts):
        return None
    return Step("writes", sql, parts=tuple(part for part in parts if part is not None))


def build_replay(statements: Sequence[str], outbox_topics: Sequence[str], dialect: Dialect) -> Replay:
    """Classify each statement; raise ReplayError with everything that stops the bench from replaying them."""
    problems: list[str] = []
    steps: list[Step] = []
    for sql in statements:
        if sql == "COMMIT":
            steps.append(Step("commit", sql))
        elif dialect.begin is not None and sql == dialect.begin:
            steps.append(Step("begin", sql))
        elif (write := _write_step(sql, problems) or _writes_step(sql, problems)) is not None:
            steps.append(write)
        elif sql.startswith("SELECT ") and " FROM " in sql:
            read = _read(sql, dialect)
            if isinstance(read, str):
                problems.append(read)
            else:
                steps.append(read)
        else:
            problems.append(f"cannot replay: {sql[:300]}")
    flat = [part for step in steps for part in step.flat()]
    found = [step.kind for step in flat]
    once = ["update_order", "insert_event", "update_line", "order", "commit", *(["begin"] if dialect.begin else [])]
    problems += [f"expected one {k!r} statement, found {found.count(k)}" for k in once if found.count(k) != 1]
    if found.count("lines") > 1:
        problems.append(f"expected at most one SELECT of the lines, found {found.count('lines')}")
    outbox_rows = sum(step.rows for step in flat if step.kind == "insert_outbox")
    if outbox_rows != len(outbox_topics):
        problems.append(f"{outbox_rows} outbox rows in the SQL, {len(outbox_topics)} topics captured")
    unknown_topics = [topic for topic in outbox_topics if topic not in OUTBOX_TOPICS]
    if unknown_topics:
        problems.append(f"outbox topics the bench cannot compute: {', '.join(unknown_topics)}")
    if problems:
        raise ReplayError("; ".join(problems))
    if found[-1] != "commit" or (dialect.begin and found[0] != "begin"):
        problems.append("BEGIN must come first and COMMIT last")
    first_write = min(found.index(kind) for kind in WRITES if kind in found)
    reads_first = [k for k in ("order", "lines") if k in found]
    if any(found.index(kind) > first_write for kind in reads_first):
        problems.append("the order and its lines must be read before the first write")
    order_sql = next(step.sql for step in steps if step.kind == "order")
    columns = select_columns(order_sql)
    lines_joined = "lines" not in found
    lines_sql = order_sql if lines_joined else next(step.sql for step in steps if step.kind == "lines")
    line_columns = {c: i for (t, c), i in select_columns(lines_sql).items() if t == "order_lines"}
    order_columns = {c: i for (t, c), i in columns.items() if t == "orders"}
    update = next(step for step in flat if step.kind == "update_order")
    needs = [*_ORDER_NEEDS, *(["last_seq"] if "last_seq" in update.columns else [])]
    problems += [f"the order SELECT lacks orders.{c}" for c in needs if c not in order_columns]
    problems += [f"no SELECT of order_lines.{c}" for c in _LINE_NEEDS if c not in line_columns]
    if problems:
        raise ReplayError("; ".join(problems))
    return Replay(tuple(steps), order_columns, line_columns, lines_joined, tuple(outbox_topics))


def check_capture(captured: dict[str, Any], dialect: Dialect) -> tuple[Replay, dict[str, Any]]:
    """The replay of a capture, and what the report says about it; ReplayError if it cannot be replayed."""
    replay = build_replay(captured["statements"], captured["outbox_topics"], dialect)
    check = {
        "replayed": "capture",
        "statements": len(replay.steps),
        "captured": captured["statements"],
        "outbox_topics": captured["outbox_topics"],
    }
    return replay, check
