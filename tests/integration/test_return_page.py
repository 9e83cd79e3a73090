"""The customer's page after delivery: she asks to return some of what she kept, each wrong value on its own
field, in Vietnamese and English; she then sees her request's state; past the window the form is gone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orders_service.infra import clock
from orders_service.infra.settings import Settings
from orders_service.returns.page import field_of
from tests.integration.api import Api
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.links import csrf_field, issue_link, page, token_of
from tests.integration.test_return_requests import DAY, DELIVERED, delivered_orders, get

pytestmark = pytest.mark.anyio
DRESS_FIELD = field_of("RR-DRESS", "M", "red")
SHIRT_FIELD = field_of("RR-SHIRT", "F", "white")


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


def error_on(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="err-{re.escape(field)}" role="alert">([^<]*)</p>', html)
    assert found, f"no error on {field}"
    return found.group(1)


async def test_she_asks_back_one_dress_on_her_page_and_sees_it_approved(api: Api) -> None:
    with clock.pinned(DELIVERED):
        links = []

        async def send_link(order: dict[str, Any]) -> None:
            links.append(await issue_link(api, order, ttl_hours=24 * 30))

        _, _, order = await delivered_orders(api, send_link)
        token = token_of(links[0])
    with clock.pinned(DELIVERED + 2 * DAY):
        shown = await page(api, token)
        assert shown.status_code == 200 and 'id="return-form"' in shown.text
        assert f'name="{DRESS_FIELD}"' in shown.text and f'name="{SHIRT_FIELD}"' in shown.text
        assert '<option value="2">' in shown.text and '<option value="3">' not in shown.text  # two dresses kept
        csrf = csrf_field(shown.text)

        # Nothing chosen, then more than she kept, then no reason: each said on its own field, the form kept.
        none = await page(api, token, "/return", "POST", data={"_csrf_token": csrf, "return_reason": "Chật"})
        assert none.status_code == 422 and "Chọn số lượng của ít nhất một sản phẩm" in error_on(none.text, "return")
        odd = {"_csrf_token": csrf, DRESS_FIELD: "7", "return_reason": "Chật"}
        too_many = await page(api, token, "/return", "POST", data=odd)
        assert too_many.status_code == 422
        assert error_on(too_many.text, DRESS_FIELD) == "Số lượng trả: chỉ trả được tối đa 2"
        garbled = await page(api, token, "/return", "POST", data={**odd, DRESS_FIELD: "hai"})
        assert error_on(garbled.text, DRESS_FIELD) == "Số lượng trả: chọn một số từ 0 đến 2"
        silent = await page(api, token, "/return?lang=en", "POST", data={"_csrf_token": csrf, DRESS_FIELD: "1"})
        assert silent.status_code == 422
        assert error_on(silent.text, "return_reason") == "Why you return it: say why (up to 500 characters)"
        assert 'aria-invalid="true" aria-describedby="err-return_reason" autofocus' in silent.text
        assert '<option value="1" selected>' in silent.text  # what she chose is still chosen
        listed = await get(api, f"/api/orders/{order['id']}/return-requests")
        assert listed["items"] == []  # nothing refused was saved

        sent = {"_csrf_token": csrf, DRESS_FIELD: "1", SHIRT_FIELD: "0", "return_reason": "Chật quá"}
        made = await page(api, token, "/return?lang=vi", "POST", data=sent)  # the English page set her cookie
        assert made.status_code == 200, made.text
        assert "Đã gửi yêu cầu trả hàng" in made.text and "Đang chờ cửa hàng duyệt" in made.text
        assert "Đầm suông (M / red) × 1" in made.text
        # One dress is asked back: one is left to ask for, and the shirt.
        assert '<option value="2">' not in made.text.split('id="return-form"')[1]

        listed = await get(api, f"/api/orders/{order['id']}/return-requests")
        request = listed["items"][0]
        assert request["requested_by"]["kind"] == "customer" and request["reason"] == "Chật quá"
        assert (await api.request("POST", f"/api/return-requests/{request['id']}/approve")).status_code == 200
        after = await page(api, token, "?lang=en")
        assert "Approved by the shop" in after.text and "Refund" in after.text and "360,000 VND" in after.text

    with clock.pinned(DELIVERED + 8 * DAY):
        late = await page(api, token, "?lang=vi")
        assert late.status_code == 200 and 'id="return-form"' not in late.text
        assert "Cửa hàng đã đồng ý" in late.text  # her request is still shown
        refused = await page(
            api, token, "/return", "POST", data={"_csrf_token": csrf, DRESS_FIELD: "1", "return_reason": "x"}
        )
        assert refused.status_code == 409 and "Đã hết thời hạn yêu cầu trả hàng" in error_on(refused.text, "return")
    assert len((await get(api, f"/api/orders/{order['id']}/return-requests"))["items"]) == 1

    # The rest of the order comes back whole: her page still shows what she asked, with no form.
    current = await get(api, f"/api/orders/{order['id']}")
    back = await api.request(
        "POST", f"/api/orders/{order['id']}/return", headers={"If-Match": f'"{current["version"]}"'}
    )
    assert back.status_code == 200, back.text
    returned = await page(api, token, "?lang=vi")
    assert "Đã hoàn hàng về cửa hàng" in returned.text and "Cửa hàng đã đồng ý" in returned.text
    assert 'id="return-form"' not in returned.text
