"""Whatever a verified Viettel Post or Ahamove webhook body holds, parsing ends in events, a rejection (401) or a
field out of range (422): never another exception, which the endpoint would answer with a 500."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from couriers.ahamove import AhamoveConfig, AhamoveCourier
from couriers.base import Request, WebhookFieldInvalid, WebhookRejected
from couriers.viettelpost import VtpConfig, VtpCourier
from tests.contract.test_ahamove import SHOP as AHA_SHOP
from tests.contract.test_viettelpost import SHOP as VTP_SHOP

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
VTP_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "ORDER_NUMBER": SCALARS,
        "ORDER_STATUS": st.sampled_from([501, -100, 999, "105"]) | SCALARS,
        "ORDER_STATUSDATE": st.sampled_from(["01/08/2025 09:00:00", "2025-08-01"]) | SCALARS,
        "ORDER_REFERENCE": SCALARS,
        "MONEY_COLLECTION": SCALARS,
        "NOTE": SCALARS,
    },
)
AHA_POINT = st.fixed_dictionaries(
    {},
    optional={
        "status": SCALARS | st.sampled_from(["COMPLETED", "FAILED"]),
        "cod": SCALARS,
        "complete_time": SCALARS,
        "tracking_number": SCALARS,
    },
)
AHA_ORDER = st.fixed_dictionaries(
    {},
    optional={
        "_id": SCALARS,
        "status": st.sampled_from(["COMPLETED", "IN PROCESS", "CANCELLED", "X"]) | SCALARS,
        "path": st.lists(AHA_POINT, max_size=3) | JSON,
        "create_time": SCALARS,
        "cancel_by_user": SCALARS,
    },
)
VTP = VtpCourier(VtpConfig(token="t", shop=VTP_SHOP, webhook_secret="agreed"))
AHA = AhamoveCourier(AhamoveConfig(token="t", shop=AHA_SHOP, webhook_secret="k"))


def outcome(parse: Any, request: Request) -> str:
    try:
        parse(request)
    except WebhookRejected:
        return "401"
    except WebhookFieldInvalid:
        return "422"
    return "200"


@settings(max_examples=150, deadline=None)
@given(data=VTP_FIELDS | JSON, wrap=st.booleans())
def test_vtp_bodies_never_raise_anything_else(data: Any, wrap: bool) -> None:
    body = {"DATA": data, "TOKEN": "agreed"} if wrap else data
    assert outcome(VTP.parse_webhook, Request({}, {}, json.dumps(body).encode())) in {"200", "401", "422"}


@settings(max_examples=150, deadline=None)
@given(data=AHA_ORDER | JSON)
def test_ahamove_bodies_never_raise_anything_else(data: Any) -> None:
    request = Request({"apikey": "k"}, {}, json.dumps(data).encode())
    assert outcome(AHA.parse_webhook, request) in {"200", "401", "422"}
