"""Who pays the shipping fee, per courier: the fields each is sent (FEE_FIELDS in its payloads module) and what
the buyer then hands over at the door, which must be our COD exactly, never the fee a second time. (The
sandbox's is in test_sandbox.py, next to its server.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from couriers.capabilities import CAPABILITIES
from couriers.ghn.payloads import FEE_FIELDS as GHN_FEE_FIELDS
from couriers.ghtk import GhtkCourier
from couriers.ghtk.payloads import FEE_FIELDS as GHTK_FEE_FIELDS
from couriers.sandbox.adapter import FEE_FIELDS as SANDBOX_FEE_FIELDS
from fakes.ghn.server import FakeGhn
from fakes.ghtk.server import FakeGhtk
from tests.contract.test_ghn import PARCEL as GHN_PARCEL
from tests.contract.test_ghn import SHOP_ID, TOKEN
from tests.contract.test_ghn import connect as ghn_connect
from tests.contract.test_ghn import created as ghn_created
from tests.contract.test_ghn import parcel as ghn_parcel
from tests.contract.test_ghtk import BASE as GHTK_BASE
from tests.contract.test_ghtk import body_of
from tests.contract.test_ghtk import config as ghtk_config
from tests.contract.test_ghtk import parcel as ghtk_parcel

pytestmark = pytest.mark.anyio


@pytest.fixture
def ghn() -> FakeGhn:
    return FakeGhn(token=TOKEN, shop_id=SHOP_ID)


@pytest.fixture
def ghtk() -> FakeGhtk:
    return FakeGhtk(token="tok-123", partner_code="S1000")


# Our COD holds the fee when the customer pays it (330,000 = goods + fee) and not when the shop does (300,000):
# either way GHN must collect exactly our COD, with its own fee billed to the shop (payment_type_id 1).
@pytest.mark.parametrize(("payer", "cod"), [("customer", 330_000), ("shop", 300_000)])
async def test_the_buyer_pays_ghn_exactly_our_cod_whoever_pays_the_fee(ghn: FakeGhn, payer: str, cod: int) -> None:
    courier = ghn_connect(ghn)
    code = (await courier.create(ghn_parcel(fee_payer=payer, cod_amount=cod))).tracking_code
    body = ghn.calls[-1][2]
    assert (body["payment_type_id"], body["cod_amount"]) == (1, cod)
    assert ghn.orders[code].total_fee > 0 and ghn.orders[code].buyer_pays == cod  # no fee added on top
    await courier.update_cod(code, cod - 10_000)
    assert ghn.calls[-1][2] == {"order_code": code, "cod_amount": cod - 10_000}
    assert ghn.orders[code].buyer_pays == cod - 10_000


async def test_the_fake_adds_ghns_fee_when_the_buyer_pays_ghn(ghn: FakeGhn) -> None:
    _, code = await ghn_created(ghn)
    ghn.orders[code].fields["payment_type_id"] = 2  # what the adapter used to send for a customer-paid fee
    assert ghn.orders[code].buyer_pays == GHN_PARCEL.cod_amount + ghn.orders[code].total_fee


# Our COD holds the fee when the customer pays it and not when the shop does: either way the shipper must
# collect exactly our COD (is_freeship=1), with GHTK's fee billed to the shop.
@pytest.mark.parametrize(("payer", "cod"), [("customer", 730_000), ("shop", 700_000)])
async def test_the_buyer_pays_ghtk_exactly_our_cod_whoever_pays_the_fee(ghtk: FakeGhtk, payer: str, cod: int) -> None:
    async with httpx.AsyncClient(transport=ghtk.transport(), base_url=GHTK_BASE) as client:
        created = await GhtkCourier(ghtk_config(), client).create(ghtk_parcel(fee_payer=payer, cod_amount=cod))
    label = created.tracking_code
    order = body_of(ghtk.calls[-1])["order"]
    assert (order["pick_money"], order["is_freeship"]) == (cod, 1)
    assert ghtk.orders[label].fee > 0 and ghtk.orders[label].buyer_pays == cod  # no fee added on top
    ghtk.orders[label].order["is_freeship"] = 0  # GHTK's default, had it been left out
    assert ghtk.orders[label].buyer_pays == cod + ghtk.orders[label].fee


@pytest.mark.parametrize(
    ("courier", "table"), [("sandbox", SANDBOX_FEE_FIELDS), ("ghn", GHN_FEE_FIELDS), ("ghtk", GHTK_FEE_FIELDS)]
)
def test_each_couriers_capabilities_name_its_fee_fields(courier: str, table: Any) -> None:
    assert set(table) == {"customer", "shop"}  # every payer an order can have
    for fields in table.values():
        assert all(name in CAPABILITIES[courier].fee for name in fields)
