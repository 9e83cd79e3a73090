"""The customer's page over HTTP: each error on its own field, the amounts now and after, phones and times as
Vietnamese people write and read them."""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

from orders_service.infra.settings import Settings
from tests.integration.api import BEN_THANH, HANOI, HCMC, HOAN_KIEM, Api
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.links import csrf_field, issue_link, order_with_sizes, page, token_of
from tests.integration.test_edit_page import form_of
from tests.integration.test_link_after_pickup import picked_up

pytestmark = pytest.mark.anyio


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """SQLite and PostgreSQL, not the Celery engine: what these pages say does not depend on where the relay runs."""
    yield from engine_settings(request, tmp_path)


FOREIGN = "+1 650 253 0000"  # a valid number of the United States


def errors_of(text: str) -> dict[str, str]:
    """The page's errors: the field each sits on -> its words."""
    found = re.findall(r'<p class="error" id="err-([\w-]+)" role="alert">(.*?)</p>', text)
    return {field: html.unescape(words) for field, words in found}


def marked(text: str) -> set[str]:
    """The fields the page marks as wrong."""
    return set(re.findall(r'id="([\w-]+)"[^>]*aria-invalid="true"', text))


def national(e164: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)


async def _refused(api: Api, token: str, form: dict[str, str], lang: str = "vi") -> str:
    answer = await page(api, token, method="POST", data={**form, "action": "preview"}, params={"lang": lang})
    assert answer.status_code == 422, answer.text
    return answer.text


async def test_a_wrong_phone_is_marked_on_its_own_field_with_its_own_reason(api: Api) -> None:
    order = await api.create_order()
    token = token_of(await issue_link(api, order))
    form = form_of(order, csrf_field((await page(api, token)).text))
    first = order["recipient"]["phones"][0]
    cases = [
        ({"phone2": "0912 345"}, "phone2", "Số điện thoại khác: thiếu số"),
        ({"phone2": "0912 345 678 999"}, "phone2", "Số điện thoại khác: thừa số"),
        ({"phone2": national(first)}, "phone2", "Số điện thoại khác: trùng với số đã ghi ở trên"),
        ({"phone3": FOREIGN}, "phone3", "Số điện thoại khác: không phải số Việt Nam"),
        ({"phone1": "09l2 345 678"}, "phone1", "Số điện thoại: không phải số điện thoại Việt Nam"),
        ({"phone1": ""}, "phone1", "Số điện thoại: cần ít nhất một số"),
        ({"name": "  "}, "name", "Họ tên: chưa ghi họ tên"),
    ]
    for change, field, words in cases:
        text = await _refused(api, token, {**form, **change})
        errors = errors_of(text)
        assert list(errors) == [field], (change, errors)
        assert errors[field].startswith(words), (change, errors)
        assert marked(text) == {field}, (change, marked(text))  # the name and the other phones are not marked
        assert f'id="{field}"' in text.split(f'id="err-{field}"')[0].rsplit("<label", 1)[1]  # right under it
        assert "phones[" not in text and "operations[" not in text
    english = errors_of(await _refused(api, token, {**form, "phone2": "0912 345"}, "en"))
    assert english == {"phone2": "Another phone: some digits are missing"}
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == 1


async def test_a_wrong_address_is_marked_on_the_field_that_is_wrong(api: Api) -> None:
    order = await api.create_order()
    token = token_of(await issue_link(api, order))
    form = form_of(order, csrf_field((await page(api, token)).text))
    # A ward of Hà Nội under Hồ Chí Minh City: the domain refuses `operations[0].address.ward_code`.
    cases = [
        ({"street": ""}, "street", "Số nhà, tên đường: chưa ghi số nhà, tên đường"),
        ({"ward": str(HOAN_KIEM)}, "ward", "Phường / xã: chọn phường / xã thuộc tỉnh / thành đã chọn"),
        ({"province": "abc"}, "province", "Tỉnh / thành phố: chọn tỉnh / thành phố trong danh sách"),
    ]
    for change, field, words in cases:
        text = await _refused(api, token, {**form, **change})
        assert errors_of(text) == {field: words}, (change, errors_of(text))
        assert marked(text) == {field}
    english = errors_of(await _refused(api, token, {**form, "ward": str(HOAN_KIEM)}, "en"))
    assert english == {"ward": "Ward / commune: choose a ward of the chosen province"}


async def test_the_preview_shows_each_amount_now_and_after_and_no_empty_line(api: Api) -> None:
    order = await order_with_sizes(api, prepaid=100000)
    token = token_of(await issue_link(api, order))
    first = await page(api, token)
    assert "row-discount" not in first.text and "−0" not in first.text  # no "Giảm giá −0 ₫"
    line = order["lines"][0]["id"]
    form = form_of(order, csrf_field(first.text), **{f"variant-{line}": '["L","red"]'})

    previewed = await page(api, token, method="POST", data={**form, "action": "preview"})
    assert previewed.status_code == 200, previewed.text
    rows = re.findall(
        r'<tr class="row-(\w+)[^"]*"><th scope="row">([^<]*)</th><td class="money"[^>]*>([^<]*)</td>'
        r'<td class="money after"[^>]*>([^<]*)</td></tr>',
        previewed.text,
    )
    assert rows == [
        ("subtotal", "Tiền hàng", "450.000 ₫", "480.000 ₫"),
        ("shipping", "Phí giao hàng", "30.000 ₫", "30.000 ₫"),
        ("paid", "Đã trả trước", "−100.000 ₫", "−100.000 ₫"),
        ("cod", "Số tiền trả khi nhận hàng", "380.000 ₫", "410.000 ₫"),
    ]
    text = previewed.text
    assert 'class="amounts compared"' in text
    # The confirm button sits with the amounts, before the form she filled in.
    assert text.index('id="amounts"') < text.index('id="confirm-button"') < text.index('id="edit"')
    assert 'form="edit" name="action" value="confirm"' in text

    quote = await page(api, token, "/quote", method="POST", data=form)
    assert [(r["key"], r["now"], r["after"]) for r in quote.json()["rows"]] == [(k, n, a) for k, _, n, a in rows]
    english = await page(api, token, method="POST", data={**form, "action": "preview"}, params={"lang": "en"})
    assert '<td class="money after" id="new-cod">410,000 VND</td>' in english.text


async def test_phones_as_people_write_them_and_times_in_vietnam_time(api: Api) -> None:
    order = await api.create_order(
        recipient={
            "name": "Nguyễn Thị Lan",
            "phones": ["+84912345678", "+842838221234"],
            "address": {"line": "12 Lê Lợi", "ward_code": BEN_THANH, "province_code": HCMC},
        }
    )
    link = await issue_link(api, order)
    token = token_of(link)
    text = (await page(api, token)).text
    assert 'name="phone1" type="tel" inputmode="tel" value="0912 345 678"' in text
    assert 'name="phone2" type="tel" inputmode="tel" value="028 3822 1234"' in text
    expires = datetime.datetime.fromisoformat(link["expires_at"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert f'<span class="time">{expires:%H:%M %d/%m/%Y}</span> (giờ Việt Nam)' in text
    assert "UTC" not in text and "+84" not in text.split('id="edit"')[1].split("</form>")[0]

    # The unchanged phones, shown in their national form, are not a change of the phones.
    form = form_of(order, csrf_field(text), phone1="0912 345 678", phone2="028 3822 1234", street="5 Pasteur")
    previewed = await page(api, token, method="POST", data={**form, "action": "preview"})
    assert previewed.status_code == 200, previewed.text

    moving = await picked_up(api, order)
    shown = (await page(api, token)).text
    assert '<span class="phone">0912 345 678</span>, <span class="phone">028 3822 1234</span>' in shown
    updated = datetime.datetime.fromisoformat(moving["updated_at"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert f'<span class="time">{updated:%H:%M %d/%m/%Y}</span>' in shown and "UTC" not in shown
    assert "Vietnam time" in (await page(api, token, params={"lang": "en"})).text


async def test_the_cancel_error_sits_in_the_cancel_box(api: Api) -> None:
    order = await api.create_order()
    token = token_of(await issue_link(api, order))
    first = await page(api, token)
    assert f'action="/o/{token}/cancel#cancel"' in first.text  # the answer opens where the box is
    refused = await page(
        api, token, "/cancel", method="POST", data={"version": "1", "_csrf_token": csrf_field(first.text)}
    )
    assert refused.status_code == 422
    box = refused.text.split('id="cancel"')[1].split("</form>")[0]
    assert 'id="err-really"' in box and "Đánh dấu ô" in box
    assert errors_of(refused.text) == {"really": "Đánh dấu ô “Tôi muốn huỷ đơn hàng này” rồi bấm Huỷ đơn hàng."}
    assert 'id="really" name="really" value="yes" aria-invalid="true" aria-describedby="err-really" autofocus' in box
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["status"] == "pending"


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_no_field_path_or_python_name_reaches_her(api: Api, lang: str) -> None:
    order = await order_with_sizes(api)
    token = token_of(await issue_link(api, order))
    form = form_of(order, csrf_field((await page(api, token)).text))
    line = order["lines"][0]["id"]
    for change in (
        {f"qty-{line}": "x"},
        {f"variant-{line}": '["XXL","green"]'},
        {"province": str(HANOI), "ward": "99999"},
        {"phone2": "+84"},
        {"name": "x" * 200},
    ):
        text = await _refused(api, token, {**form, **change}, lang)
        errors = errors_of(text)
        assert len(errors) == 1 and marked(text) == set(errors), (change, errors)
        for internal in ("operations", "phones[", "ward_code", "Expected", "must be", "_"):
            assert internal not in " ".join(errors.values()), (change, errors)
    # Her only item set to 0: the order keeps one line; she is told so on that quantity, and how to cancel.
    emptied = errors_of(await _refused(api, token, {**form, f"qty-{line}": "0"}, lang))
    assert list(emptied) == [f"qty-{line}"]
    assert ("ít nhất một sản phẩm" if lang == "vi" else "at least one item") in emptied[f"qty-{line}"]
