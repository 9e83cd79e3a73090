"""The customer's page over HTTP (no browser): the form flow, and what an attacker or a stale page gets."""

from __future__ import annotations

import html

import pytest

from tests.integration.api import Api
from tests.integration.links import csrf_field, expire_links, issue_link, order_with_sizes, page, public, token_of

pytestmark = pytest.mark.anyio


def form_of(order: dict[str, object], csrf: str, **changes: str) -> dict[str, str]:
    """The page's form as it is first shown for `order`, with `changes`."""
    recipient: dict = order["recipient"]  # type: ignore[assignment]
    phones = [*recipient["phones"], "", ""]
    fields = {
        "_csrf_token": csrf,
        "version": str(order["version"]),
        "name": recipient["name"],
        "phone1": phones[0],
        "phone2": phones[1],
        "phone3": phones[2],
        "province": str(recipient["address"]["province_code"]),
        "ward": str(recipient["address"]["ward_code"]),
        "street": recipient["address"]["line"],
    }
    for line in order["lines"]:  # type: ignore[attr-defined]
        fields[f"qty-{line['id']}"] = str(line["quantity"])
        fields[f"variant-{line['id']}"] = f'["{line["size"]}","{line["color"]}"]'
    return {**fields, **changes}


async def test_preview_then_confirm_and_a_stale_page_shows_the_fresh_order(api: Api) -> None:
    order = await order_with_sizes(api)
    token = token_of(await issue_link(api, order))
    first = await page(api, token)
    assert first.status_code == 200 and "Chờ xác nhận" in first.text and "480.000 ₫" in first.text
    assert first.headers["referrer-policy"] == "no-referrer" and first.headers["cache-control"] == "no-store"
    line = order["lines"][0]["id"]
    form = form_of(order, csrf_field(first.text), **{f"variant-{line}": '["L","red"]', "street": "99 Hai Bà Trưng"})

    previewed = await page(api, token, method="POST", data={**form, "action": "preview"})
    assert previewed.status_code == 200, previewed.text
    assert 'id="new-cod">510.000 ₫' in previewed.text and 'id="confirm-button"' in previewed.text
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == 1

    digest = html.unescape(previewed.text.split('name="previewed" value="')[1].split('"')[0])
    # A confirm for a change other than the one previewed is only a preview of it: she must see its amount.
    other = await page(
        api, token, method="POST", data={**form, "street": "1 Khác", "previewed": digest, "action": "confirm"}
    )
    assert other.status_code == 200 and "confirm-button" in other.text
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == 1

    saved = await page(api, token, method="POST", data={**form, "previewed": digest, "action": "confirm"})
    assert saved.status_code == 200 and "Đã lưu thay đổi" in saved.text
    now = (await api.request("GET", f"/api/orders/{order['id']}")).json()
    assert (now["version"], now["cod_amount"], now["recipient"]["address"]["line"]) == (2, 510000, "99 Hai Bà Trưng")

    again = await page(api, token, method="POST", data={**form, "previewed": digest, "action": "confirm"})
    assert again.status_code == 412 and "Cửa hàng vừa cập nhật" in again.text and "99 Hai Bà Trưng" in again.text
    english = await page(api, token, params={"lang": "en"})
    assert "To pay on delivery" in english.text and "510,000 VND" in english.text
    assert "To pay on delivery" in (await page(api, token)).text  # the choice is remembered


async def test_bad_tokens_say_nothing_of_any_order(api: Api) -> None:
    order = await api.create_order()
    other = await api.create_order()
    token = token_of(await issue_link(api, order))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, token[:20], "x" * 500, "A" * 43):
        shown = await page(api, bad)
        assert shown.status_code == 404 and "Liên kết không hợp lệ" in shown.text, bad
        answer = await public(api, bad)
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("application/problem+json")
        assert order["code"] not in shown.text + answer.text
    # A token opens its own order only: another order's line is not there to change.
    foreign = {"op": "set_quantity", "line_id": other["lines"][0]["id"], "quantity": 3}
    refused = await public(
        api, token, "/amendments", "POST", json={"operations": [foreign]}, headers={"If-Match": '"1"'}
    )
    assert refused.status_code == 422 and other["code"] not in refused.text
    assert other["code"] not in (await page(api, token)).text

    await expire_links(api.app.state.settings, order["id"])
    expired = await page(api, token)
    assert expired.status_code == 410 and "liên hệ cửa hàng" in expired.text and order["code"] not in expired.text
    assert (await public(api, token)).status_code == 410
    await api.request("DELETE", f"/api/orders/{order['id']}/edit-link")
    assert (await page(api, token)).status_code == 404  # revoked beats expired: nothing is told


async def test_script_in_a_name_or_address_is_shown_as_text(api: Api) -> None:
    order = await api.create_order()
    token = token_of(await issue_link(api, order))
    script = "<script>alert('x')</script>"
    address = {k: order["recipient"]["address"][k] for k in ("line", "ward_code", "province_code")}
    change = {
        "operations": [
            {"op": "set_recipient", "name": f"Lan {script}"},
            {"op": "set_address", "address": {**address, "line": f'12 "Lê Lợi" {script}'}},
        ]
    }
    assert (
        await public(api, token, "/amendments", "POST", json=change, headers={"If-Match": '"1"'})
    ).status_code == 200
    shown = await page(api, token)
    assert script not in shown.text and "<script>alert" not in shown.text
    assert "&lt;script&gt;alert(" in shown.text


async def test_a_form_post_without_the_csrf_token_is_refused(api: Api) -> None:
    order = await api.create_order()
    token = token_of(await issue_link(api, order))
    shown = await page(api, token)
    form = form_of(order, csrf_field(shown.text), name="Kẻ Giả Mạo", action="preview")
    form.pop("_csrf_token")
    for refused in (
        await page(api, token, method="POST", data=form),
        await page(api, token, "/cancel", method="POST", data={"version": "1", "really": "yes"}),
        await page(api, token, method="POST", data={**form, "_csrf_token": "forged" * 12}),
    ):
        assert refused.status_code == 403, refused.text
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["status"] == "pending"
    cancelled = await page(
        api,
        token,
        "/cancel",
        method="POST",
        data={"version": "1", "really": "yes", "_csrf_token": csrf_field(shown.text)},
    )
    assert cancelled.status_code == 200 and "Đơn hàng đã được huỷ" in cancelled.text
