"""Print, as JSON, every statement SQLAlchemy sends for one amendment of a fresh order.

amend_bench.py runs this in a subprocess (so the app's logging setup and SQLAlchemy event hooks stay out of
the load generator) to check that its raw-SQL mode still mirrors the app. It uses the real app
(orders_service.app.create_app) in-process through litestar.testing.AsyncTestClient, against the database
that ORDERS_DATA_DIR / DATABASE_URL name, which must already be migrated and hold the staff key given.

    ORDERS_DATA_DIR=/tmp/x .venv/bin/python bench/capture_amend_sql.py --key osk_...

Output: {"statements": ["BEGIN IMMEDIATE", "SELECT ...", ..., "COMMIT"], "outbox_topics": ["order.amended", ...]},
whitespace collapsed; COMMIT is the DBAPI commit (not a cursor statement), and on PostgreSQL the driver's
implicit BEGIN does not appear. `outbox_topics` are the topics of the outbox rows the amendment wrote, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from orders_service.app import create_app
from orders_service.infra.settings import Settings


def _payload(phone: str) -> dict[str, Any]:
    return {
        "customer": {"full_name": "Nguyễn Thị Lan", "phones": [phone]},
        "channel": "website",
        "recipient": {
            "name": "Nguyễn Thị Lan",
            "phones": [phone],
            "address": {"line": "12 Lê Lợi", "ward_code": 26743, "province_code": 79},
        },
        "lines": [
            {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}
        ],
        "shipping": {"fee": 30000, "payer": "customer"},
    }


_OUTBOX_INSERT = re.compile(r"^INSERT INTO outbox \((.+?)\) VALUES ")
# The same INSERTs among several writes in one statement (PostgreSQL: WITH w0 AS (INSERT INTO outbox ...) ...).
_OUTBOX_ANY = re.compile(r"INSERT INTO outbox \((.+?)\) VALUES ((?:\([^()]*\)(?:, )?)+)")


def _numbered_topics(sql: str, params: Any) -> list[str]:
    """The topics of a WITH statement's outbox rows, in the order its text has them, read at their $N."""
    topics = []
    for found in _OUTBOX_ANY.finditer(sql):
        at = [c.strip().strip('"') for c in found[1].split(", ")].index("topic")
        for row in re.findall(r"\(([^()]*)\)", found[2]):
            topics.append(str(list(params)[int(re.findall(r"\$(\d+)", row)[at]) - 1]))
    return topics


async def capture(key: str) -> dict[str, list[str]]:
    statements: list[str] = []
    topics: list[str] = []  # of the outbox rows written, in order: the bench must know how to compute each
    capturing = False

    def on_execute(_conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, many: bool) -> None:
        if not capturing:
            return
        sql = " ".join(statement.split())
        # An executemany (a list of parameter tuples) is replayed as one statement per tuple; insertmanyvalues'
        # one statement with several rows has one flat tuple.
        nested = many and isinstance(params, list | tuple) and bool(params) and isinstance(params[0], list | tuple)
        rows = list(params) if nested else [params]
        statements.extend([sql] * len(rows))
        if sql.startswith("WITH "):
            topics.extend(_numbered_topics(sql, params))
        elif (insert := _OUTBOX_INSERT.match(sql)) is not None:
            columns = [c.strip().strip('"') for c in insert[1].split(", ")]
            at, width = columns.index("topic"), len(columns)
            for row in rows:  # insertmanyvalues: several rows' values in one flat list
                topics.extend(str(value) for value in list(row)[at::width])

    def on_commit(_conn: Any) -> None:
        if capturing:
            statements.append("COMMIT")

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Engine, "commit", on_commit)
    app = create_app(Settings.from_env())
    auth = {"Authorization": f"Bearer {key}"}
    async with AsyncTestClient(app=app, timeout=30) as client:
        phone = "09" + random.choice("012345678") + "".join(random.choices("0123456789", k=7))
        created = await client.post("/api/orders", json=_payload(phone), headers=auth)
        if created.status_code != 201:
            raise SystemExit(f"POST /api/orders answered {created.status_code}: {created.text[:300]}")
        order = created.json()
        operation = {"op": "set_quantity", "line_id": order["lines"][0]["id"], "quantity": 2}
        capturing = True  # the key is cached by now, so its lookup is not in the capture
        amended = await client.post(
            f"/api/orders/{order['id']}/amendments",
            json={"operations": [operation]},
            headers={**auth, "If-Match": f'"{order["version"]}"'},
        )
        capturing = False
        if amended.status_code != 200:
            raise SystemExit(f"the amendment answered {amended.status_code}: {amended.text[:300]}")
    return {"statements": statements, "outbox_topics": topics}


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the SQL one amendment runs (JSON on stdout).")
    parser.add_argument("--key", required=True, help="a staff API key of that database")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(capture(args.key))) + "\n")


if __name__ == "__main__":
    main()
