"""Contract tests: GHN's shipping-order/update, one aspect per call, against the fake's documented rules (the
fields GHN-75 lists, the FAQ's limits on recipient changes)."""

from __future__ import annotations

import msgspec
import pytest

from couriers.base import PermanentCourierError
from fakes.ghn.server import FakeGhn
from tests.contract.test_ghn import HANOI, HCM, SHOP_ID, TOKEN, config, connect, created, parcel

pytestmark = pytest.mark.anyio


@pytest.fixture
def ghn() -> FakeGhn:
    return FakeGhn(token=TOKEN, shop_id=SHOP_ID)


async def test_update_recipient_sends_name_and_phone_and_update_address_ghns_ids(ghn: FakeGhn) -> None:
    courier, code = await created(ghn)
    moved = parcel(recipient_name="Chị Lan", phones=("+84387654321",), address=HCM, note=None)
    await courier.update_recipient(code, moved)
    assert ghn.calls[-1][2] == {"order_code": code, "to_name": "Chị Lan", "to_phone": "0387654321", "note": ""}
    await courier.update_address(code, moved)
    # GHN's update doc lists to_district_id and to_ward_code; the create doc's names are not among them.
    assert ghn.calls[-1][2] == {
        "order_code": code,
        "to_address": "1 Lê Lợi",
        "to_district_id": 1442,
        "to_ward_code": "20109",
    }
    stored = ghn.orders[code].fields
    assert (stored["to_district_id"], stored["to_ward_code"]) == (1442, "20109")
    remote = await courier.detail(code)
    assert (remote.recipient_name, remote.phones, remote.address_line) == ("Chị Lan", ("+84387654321",), "1 Lê Lợi")


async def test_an_address_update_without_ghns_ids_is_refused_unless_names_are_configured() -> None:
    ghn = FakeGhn(token=TOKEN, shop_id=SHOP_ID, update_takes_names=True)
    courier, code = await created(ghn)
    with pytest.raises(PermanentCourierError, match="GHN address map") as refused:
        await courier.update_address(code, parcel(address=HANOI))
    assert (refused.value.code, ghn.calls[-1][0]) == ("GHN_WARD_UNMAPPED", "/v2/shipping-order/create")
    moved = parcel(address=msgspec.structs.replace(HCM, courier_ids=None))
    await connect(ghn, update_address="names").update_address(code, moved)
    assert ghn.calls[-1][2] == {
        "order_code": code,
        "to_address": "1 Lê Lợi",
        "to_ward_name": "Phường Sài Gòn",
        "to_province_name": "Hồ Chí Minh",
    }
    assert ghn.orders[code].fields["to_province_name"] == "Hồ Chí Minh"
    with pytest.raises(ValueError, match="update_address"):
        config(update_address="both")


async def test_a_ghn_that_does_not_take_names_on_update_keeps_the_old_ward(ghn: FakeGhn) -> None:
    _, code = await created(ghn)
    moved = parcel(address=msgspec.structs.replace(HCM, courier_ids=None))
    await connect(ghn, update_address="names").update_address(code, moved)
    assert ghn.orders[code].fields["to_province_name"] == "Hà Nội"  # ignored, as fields outside GHN-75 are


async def test_the_recipient_may_change_twice(ghn: FakeGhn) -> None:
    courier, code = await created(ghn)
    await courier.update_recipient(code, parcel(recipient_name="Chị Lan"))
    await courier.update_recipient(code, parcel(recipient_name="Chị Lan"))  # nothing new: not a change
    await courier.update_recipient(code, parcel(recipient_name="Chị Hoa"))
    with pytest.raises(PermanentCourierError, match="tối đa 2 lần"):
        await courier.update_recipient(code, parcel(recipient_name="Chị Mai"))
    assert ghn.orders[code].fields["to_name"] == "Chị Hoa"
    await courier.update_cod(code, 100_000)  # COD is not in the limited group
    assert ghn.orders[code].fields["cod_amount"] == 100_000


async def test_the_faqs_field_limit_can_be_switched_on_and_a_buyer_paying_ghn_blocks_address_changes() -> None:
    ghn = FakeGhn(token=TOKEN, shop_id=SHOP_ID, recipient_changes=None, recipient_fields=1)
    courier, code = await created(ghn)
    await courier.update_recipient(code, parcel(recipient_name="Chị Lan"))
    with pytest.raises(PermanentCourierError, match="tối đa 1 thông tin"):
        await courier.update_recipient(code, parcel(recipient_name="Chị Hoa", phones=("+84387654321",)))
    ghn.orders[code].fields["payment_type_id"] = 2
    ghn.book.recipient_fields = None
    with pytest.raises(PermanentCourierError, match="người nhận trả phí"):
        await courier.update_address(code, parcel(address=HCM))
