"""The bare-Litestar baseline for amend_bench.py: one POST route, no database, no middleware.

It takes the same request the amendment endpoint takes (path shape, JSON body shape, headers are ignored),
decodes it into a small msgspec Struct and returns a small Struct. It is served exactly like
`orders-service serve`: `uvicorn.run(..., workers=1, access_log=False, log_level="info")`, with uvicorn
picking its loop and HTTP parser the same way (uvloop and httptools when installed).

    .venv/bin/python bench/bare_app.py --port 8123
"""

from __future__ import annotations

import argparse
from uuid import UUID

import msgspec
from litestar import Litestar, post

BARE_PATH = "/bare/orders/{order_id:uuid}/amendments"


class SetQuantity(msgspec.Struct, tag="set_quantity", tag_field="op", forbid_unknown_fields=True):
    line_id: UUID
    quantity: int


class AmendmentIn(msgspec.Struct, forbid_unknown_fields=True):
    operations: list[SetQuantity]


class Ack(msgspec.Struct):
    order_id: UUID
    line_id: UUID
    quantity: int


@post(BARE_PATH, status_code=200)
async def amend(order_id: UUID, data: AmendmentIn) -> Ack:
    op = data.operations[0]
    return Ack(order_id=order_id, line_id=op.line_id, quantity=op.quantity)


app = Litestar(route_handlers=[amend], debug=False, openapi_config=None)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the bare Litestar baseline like `orders-service serve`.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on [default: 127.0.0.1]")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    args = parser.parse_args()
    # The same settings as orders_service.cli.serve: one process, no access log.
    uvicorn.run(app, host=args.host, port=args.port, workers=1, access_log=False, log_level="info")


if __name__ == "__main__":
    main()
