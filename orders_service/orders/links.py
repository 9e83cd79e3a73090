"""OpenAPI links from an order's answer to what a client does next with it: read it, or amend it.

Litestar builds each operation with the handler's `operation_class`; these subclasses add the links to the
success response once it is built, so the schema (and a fuzzer following it) knows that the `id` and the
`ETag` of a created or amended order are the `order_id` and the `If-Match` of the next call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar.openapi.spec import Example, Link, OpenAPIResponse, Operation
from litestar.params import Body

from orders_service.orders.schemas import OrderIn

GET_ORDER = "ApiOrdersOrderIdGetOrder"
AMEND_ORDER = "ApiOrdersOrderIdAmendmentsAmendOrder"

_NEXT = {
    "GetOrder": Link(
        operation_id=GET_ORDER,
        parameters={"path.order_id": "$response.body#/id"},
        description="The order just answered, read back",
    ),
    "AmendOrder": Link(
        operation_id=AMEND_ORDER,
        parameters={"path.order_id": "$response.body#/id", "header.If-Match": "$response.header.ETag"},
        description="Amend the order answered, at the version it was answered with",
    ),
}


def _link(operation: Operation, status: str) -> None:
    response = (operation.responses or {}).get(status)
    if isinstance(response, OpenAPIResponse):
        response.links = dict(_NEXT)


@dataclass
class AnswersNewOrder(Operation):
    """`POST /api/orders`: 201 with the new order."""

    def __post_init__(self) -> None:
        _link(self, "201")


@dataclass
class AnswersOrder(Operation):
    """An operation answering 200 with the order (amend, get)."""

    def __post_init__(self) -> None:
        _link(self, "200")


# A valid order in the schema: integrators copy it, and a fuzzer starts its stateful runs from it.
_EXAMPLE_ORDER = {
    "customer": {"full_name": "Nguyễn Thị Lan", "phones": ["0901234567"]},
    "channel": "website",
    "recipient": {
        "name": "Nguyễn Thị Lan",
        "phones": ["0901234567"],
        "address": {"line": "12 Lê Lợi", "ward_code": 26743, "province_code": 79},
    },
    "lines": [{"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}],
    "shipping": {"fee": 30000, "payer": "customer"},
}
NewOrderBody = Annotated[OrderIn, Body(examples=[Example(summary="A dress to Bến Thành, COD", value=_EXAMPLE_ORDER)])]
