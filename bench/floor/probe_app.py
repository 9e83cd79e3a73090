"""The real app with extra POST routes that stop at each layer of an amendment, for bench/floor_bench.py.

It imports `orders_service.asgi:app` (the service exactly as `orders-service serve` builds it: middleware,
API-key authentication, the strict JSON body check, our access line, CommitBeforeSending) and registers, under
/api/_probe/..., routes that take the amendment's request (its path, its JSON body decoded into bare_app.py's
small Struct) and answer bare_app.py's small Struct, each one layer further on the amendment's way:

* ``stack``       nothing but the request layer (no dependency);
* ``session``     plus the request's database session, unused;
* ``deps``        plus the warehouse and the discount policy, read as the handlers read them (from the app's
                  state: orders_service/infra/deps.py; they were dependencies, resolved with the session in an
                  anyio task group, until issue 18);
* ``transaction`` the session's write transaction (BEGIN IMMEDIATE on SQLite) and one `SELECT 1`, committed by
                  the app's CommitBeforeSending;
* ``read``        the transaction plus the amendment's own read of the order (loader.read_order).

It is served like `orders-service serve` (orders_service/cli.py): the migrations first, then uvicorn.run with
one process, log_config=None, access_log=False and the configured log level. With --key-file it first does
what `orders-service keys create --name bench --role staff` does (migrate, create the key) and writes the key
to that file: the bench saves a second interpreter start, its slowest step.

    .venv/bin/python bench/floor/probe_app.py --port 8124 [--key-file KEY_FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

BENCH = Path(__file__).resolve().parent.parent
for _path in (BENCH.parent, BENCH):  # this checkout's orders_service, and bench/bare_app.py
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bare_app import Ack, AmendmentIn  # noqa: E402
from litestar import Request, post  # noqa: E402
from sqlalchemy import text  # noqa: E402

from orders_service.asgi import app, settings  # noqa: E402
from orders_service.db.engine import begin_write  # noqa: E402
from orders_service.infra.deps import DbSession, discounts_of, warehouse_of  # noqa: E402
from orders_service.orders import loader  # noqa: E402

PROBE_PATH = "/api/_probe/{probe}/{order_id}"  # as the bench formats it
SELECT_ONE = text("SELECT 1")


Probe = Request[Any, Any, Any]


def _constants(request: Probe) -> None:
    """What the amendment's handler reads besides its session: the warehouse and the discount policy."""
    warehouse_of(request)
    discounts_of(request)


def _ack(order_id: UUID, data: AmendmentIn) -> Ack:
    op = data.operations[0]
    return Ack(order_id=order_id, line_id=op.line_id, quantity=op.quantity)


@post("/api/_probe/stack/{order_id:uuid}", status_code=200, include_in_schema=False)
async def stack(order_id: UUID, data: AmendmentIn) -> Ack:
    return _ack(order_id, data)


# Not ".../session/...": the access line's redaction takes a path naming a session for one holding a secret, and
# its full rules would be measured as the session's cost.
@post("/api/_probe/db/{order_id:uuid}", status_code=200, include_in_schema=False)
async def session(db_session: DbSession, order_id: UUID, data: AmendmentIn) -> Ack:
    return _ack(order_id, data)


@post("/api/_probe/deps/{order_id:uuid}", status_code=200, include_in_schema=False)
async def deps(request: Probe, db_session: DbSession, order_id: UUID, data: AmendmentIn) -> Ack:
    _constants(request)
    return _ack(order_id, data)


@post("/api/_probe/transaction/{order_id:uuid}", status_code=200, include_in_schema=False)
async def transaction(request: Probe, db_session: DbSession, order_id: UUID, data: AmendmentIn) -> Ack:
    _constants(request)
    await begin_write(db_session)
    await db_session.execute(SELECT_ONE)
    return _ack(order_id, data)


@post("/api/_probe/read/{order_id:uuid}", status_code=200, include_in_schema=False)
async def read(request: Probe, db_session: DbSession, order_id: UUID, data: AmendmentIn) -> Ack:
    _constants(request)
    await begin_write(db_session)  # as the amendment: the write transaction first, then the order, locked
    await loader.read_order(db_session, order_id, True, None, stock_read=True)
    return _ack(order_id, data)


PROBES = {"stack": stack, "session": session, "deps": deps, "transaction": transaction, "read": read}
for _handler in PROBES.values():
    app.register(_handler)


def main() -> None:
    import asyncio

    import uvicorn

    from orders_service.auth.services import Role
    from orders_service.cli import _create_key, _migrate
    from orders_service.ops.clients import TrustedProxies

    parser = argparse.ArgumentParser(description="Serve the app with its probe routes like `orders-service serve`.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on [default: 127.0.0.1]")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("--key-file", type=Path, default=None, help="create a staff key named bench, write it here")
    args = parser.parse_args()
    if args.key_file is None:
        _migrate(settings)  # as `orders-service serve --migrate`
    else:  # `orders-service keys create`: the migrations, then the key
        args.key_file.write_text(asyncio.run(_create_key("bench", Role.STAFF)) + "\n")
    # The same call as orders_service.cli.serve (which passes the import string of the same app object).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
        **TrustedProxies(settings.trusted_proxies).uvicorn_options(),
    )


if __name__ == "__main__":
    main()
