"""The customer's page with bad input, in both languages: every form she can post (amend preview and confirm,
cancel, a typed address), a wrong token, an expired link, the read-only page after pickup, a forged form, too
many requests. Each answer is a page in her language that names the field in words: never a 500, a field path,
a Python name, raw JSON, English on a Vietnamese page or Vietnamese left untranslated on an English one."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from orders_service.infra.catalogues import read
from orders_service.infra.i18n import PUBLIC, po_path
from orders_service.infra.settings import Settings
from tests.integration.api import HANOI, HOAN_KIEM, Api
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.links import csrf_field, expire_links, issue_link, order_with_sizes, page, token_of
from tests.integration.test_edit_page import form_of
from tests.integration.test_link_after_pickup import picked_up
from tests.integration.test_link_limits import client_address

pytestmark = pytest.mark.anyio

VIETNAMESE_LETTERS = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.I)
ENGLISH_WORDS = re.compile(
    r"\b(the|and|must|please|choose|give|field|invalid|expected|required|error|cancel|order|phone|not)\b", re.I
)
INTERNALS = [
    re.compile(r"\w\[\d+\]"),  # operations[0].phones[1]
    re.compile(r"\b[a-z]+_[a-z_]+\b"),  # ward_code, read_only, out_of_stock
    re.compile(r"\b[a-z]+\.[a-z_]{2,}\b"),  # phone.invalid, err.qty (not "e.g.")
    re.compile(r"[{}]"),  # raw JSON, an unformatted placeholder
    re.compile(r"%\(|Traceback|Exception|NoneType|Expected `"),
]
# A wrong token by every way in; and a path or a method the page does not have.
WRONG_WAYS = (("", "GET"), ("", "POST"), ("/cancel", "POST"), ("/somewhere", "GET"), ("/cancel", "GET"))
# Place names and the shop's example address are the same in both languages; so are the couriers' names.
SAME_IN_BOTH = ["12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM", "Giao Hàng Nhanh", "Giao Hàng Tiết Kiệm", "Tiếng Việt"]


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Low rate limits, so that a few requests reach them (each test comes from its own client address)."""
    for chosen in engine_settings(request, tmp_path):
        yield msgspec.structs.replace(chosen, link_client_limit=100, link_token_limit=100, link_rate_window_s=60)


def visible(text: str, data: list[str]) -> str:
    """The words a person reads: no markup, scripts, attribute values or data pickers (provinces, wards,
    sizes: names as they are), and without the order's and the shop's own data."""
    text = re.sub(r"(name one of|ghi rõ một trong): [^<]*", r"\1", text)  # the wards it could be: place names
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r'<select id="(province|ward|variant-[^"]+)".*?</select>', " ", text, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    for known in sorted({*data, *SAME_IN_BOTH}, key=len, reverse=True):
        text = text.replace(known, " ")
    return " ".join(text.split())


def english_lines() -> list[str]:
    """The English of the customer's catalogue, as whole texts (a vi page must show none of them)."""
    catalog = read(po_path("en", PUBLIC), "en")
    return [str(m.string) for m in catalog if m.id and isinstance(m.string, str) and len(m.string.split()) > 1]


def check(answer: httpx.Response, lang: str, data: list[str], what: str) -> str:
    assert answer.status_code < 500, (what, answer.status_code, answer.text[:500])
    assert answer.headers["content-type"].startswith("text/html"), (what, answer.headers["content-type"])
    assert f'<html lang="{lang}">' in answer.text, what
    shop = re.findall(r'class="(?:shop|contact-name|contact-address)">([^<]*)<', answer.text)
    words = visible(answer.text, [*data, *map(html.unescape, shop)])
    for internal in INTERNALS:
        assert not internal.search(words), (what, internal.pattern, internal.search(words), words)
    if lang == "en":
        assert not VIETNAMESE_LETTERS.search(words), (what, "Vietnamese on an English page", words)
    else:
        assert not ENGLISH_WORDS.search(words), (what, "English on a Vietnamese page", words)
        shown = [line for line in english_lines() if line in words]
        assert shown == [], (what, "English on a Vietnamese page", shown)
    return words


def data_of(order: dict[str, Any], *typed: str) -> list[str]:
    """What the page shows as it is in both languages: her name, her address, the items' names, what she typed."""
    recipient = order["recipient"]
    address = recipient["address"]
    names = [recipient["name"], address["line"], address.get("ward_name") or "", address.get("province_name") or ""]
    names += [line["name"] for line in order["lines"]]
    return [n for n in [*names, *typed] if n]


async def test_every_form_with_bad_input_answers_in_her_language(api: Api) -> None:
    order = await order_with_sizes(api)
    token = token_of(await issue_link(api, order))
    line = order["lines"][0]["id"]
    typed_unknown, typed_several = "Chỗ không có thật", "1 Kim Mã, P. Kim Mã, Q. Ba Đình, HN"
    data = data_of(order, typed_unknown, typed_several, "Hà Nội", "Hồ Chí Minh")
    bad_changes: list[tuple[str, dict[str, str], int]] = [
        ("second phone too short", {"phone2": "0912 345"}, 422),
        ("foreign phone", {"phone3": "+1 650 253 0000"}, 422),
        ("letters in the phone", {"phone1": "09l2 345 678"}, 422),
        ("no phone", {"phone1": ""}, 422),
        ("the same phone twice", {"phone2": order["recipient"]["phones"][0]}, 422),
        ("no name", {"name": "  "}, 422),
        ("a name too long", {"name": "x" * 200}, 422),
        ("a name on two lines", {"name": "Lan\nAnh"}, 422),
        ("no street", {"street": ""}, 422),
        ("a ward of another province", {"ward": str(HOAN_KIEM)}, 422),
        ("a province that is not one", {"province": "abc"}, 422),
        ("a ward that is not one", {"province": str(HANOI), "ward": "99999"}, 422),
        ("an address nobody knows", {"address_text": typed_unknown}, 422),
        ("an old ward now in several", {"address_text": typed_several}, 422),
        ("a quantity that is not a number", {f"qty-{line}": "x"}, 422),
        ("every item removed", {f"qty-{line}": "0"}, 422),
        ("a size the shop does not offer", {f"variant-{line}": '["XXL","green"]'}, 422),
        ("nothing changed", {}, 422),
        ("a stale page", {"version": "0", "street": "5 Pasteur"}, 412),
        ("a version that is not one", {"version": "abc", "street": "5 Pasteur"}, 412),
    ]
    for lang in ("vi", "en"):
        me = client_address()  # each language's walk within the client's limit (the token's is for both)
        first = await page(api, token, params={"lang": lang}, headers=me)
        check(first, lang, data, "the page")
        form = form_of(order, csrf_field(first.text))
        for action in ("preview", "confirm"):
            for what, change, status in bad_changes:
                sent = {**form, **change, "action": action}
                answer = await page(api, token, method="POST", data=sent, params={"lang": lang}, headers=me)
                assert answer.status_code == status, (lang, action, what, answer.status_code)
                words = check(answer, lang, data, f"{lang} {action}: {what}")
                if status == 422 and what != "nothing changed":
                    assert 'role="alert"' in answer.text and ": " in words, (lang, what)  # "Field: why"
        for what, sent, status in [
            ("the box not ticked", {"version": str(order["version"])}, 422),
            ("a stale page", {"version": "0", "really": "yes"}, 412),
        ]:
            answer = await page(
                api,
                token,
                "/cancel",
                method="POST",
                data={**sent, "_csrf_token": form["_csrf_token"]},
                params={"lang": lang},
                headers=me,
            )
            assert answer.status_code == status, (lang, what, answer.status_code)
            check(answer, lang, data, f"{lang} cancel: {what}")
        forged = {**form, "street": "5 Pasteur", "action": "preview", "_csrf_token": "forged" * 12}
        refused = await page(api, token, method="POST", data=forged, params={"lang": lang}, headers=me)
        assert refused.status_code == 403
        check(refused, lang, data, f"{lang}: a form not from her page")
    assert (await api.request("GET", f"/api/orders/{order['id']}")).json()["version"] == order["version"]


async def test_wrong_expired_read_only_and_busy_links_answer_in_her_language(api: Api, settings: Settings) -> None:
    me = client_address()
    wrong = secrets.token_urlsafe(32)
    for lang in ("vi", "en"):
        for suffix, method in WRONG_WAYS:
            answer = await page(api, wrong, suffix, method=method, params={"lang": lang}, headers=me)
            assert answer.status_code in (403, 404, 405), (lang, suffix, method, answer.status_code)
            check(answer, lang, [], f"{lang}: wrong token {method} {suffix}")

    expired = await api.create_order()
    token = token_of(await issue_link(api, expired))
    form = form_of(expired, csrf_field((await page(api, token, headers=me)).text), street="5 Pasteur")
    await expire_links(settings, expired["id"])
    for lang in ("vi", "en"):
        for suffix, method, data in (("", "GET", None), ("", "POST", form), ("/cancel", "POST", form)):
            answer = await page(api, token, suffix, method=method, data=data, params={"lang": lang}, headers=me)
            assert answer.status_code == 410, (lang, suffix, answer.status_code)
            check(answer, lang, data_of(expired), f"{lang}: expired {method} {suffix}")

    shipped = await api.create_order()
    token = token_of(await issue_link(api, shipped))
    form = form_of(shipped, csrf_field((await page(api, token, headers=me)).text), street="5 Pasteur")
    await picked_up(api, shipped)
    for lang in ("vi", "en"):
        shown = await page(api, token, params={"lang": lang}, headers=me)
        assert shown.status_code == 200
        check(shown, lang, data_of(shipped), f"{lang}: the page after pickup")
        for suffix, sent in (("", {**form, "action": "preview"}), ("/cancel", {**form, "really": "yes"})):
            answer = await page(api, token, suffix, method="POST", data=sent, params={"lang": lang}, headers=me)
            assert answer.status_code == 409, (lang, suffix, answer.status_code)
            words = check(answer, lang, data_of(shipped), f"{lang}: a change after pickup {suffix}")
            assert ("Không thể thay đổi" if lang == "vi" else "Not changed") in words

    kept = await api.create_order()
    merged = await api.create_order(customer_id=kept["customer_id"])
    token = token_of(await issue_link(api, merged))
    form = form_of(merged, csrf_field((await page(api, token, headers=me)).text), street="5 Pasteur")
    into = {"order_ids": [kept["id"], merged["id"]], "into": kept["id"]}
    assert (await api.request("POST", "/api/orders/merge", json=into)).status_code == 201
    for lang in ("vi", "en"):
        shown = await page(api, token, params={"lang": lang}, headers=me)
        assert shown.status_code == 200 and kept["code"] in shown.text
        check(shown, lang, data_of(merged), f"{lang}: the page of a merged order")
        answer = await page(api, token, method="POST", data={**form, "action": "preview"}, params={"lang": lang})
        assert answer.status_code == 409
        check(answer, lang, data_of(merged), f"{lang}: a change of a merged order")

    me = client_address()
    busy = [await page(api, secrets.token_urlsafe(32), headers=me, params={"lang": "en"}) for _ in range(101)]
    assert busy[-1].status_code == 429
    check(busy[-1], "en", [], "en: too many requests")
    check(await page(api, wrong, headers=me, params={"lang": "vi"}), "vi", [], "vi: too many requests")


async def test_her_language_is_the_one_she_chose_then_her_browsers(api: Api) -> None:
    """As on the dashboard: `?lang=` (remembered in a cookie), then the cookie, then Accept-Language, else vi."""
    token = token_of(await issue_link(api, await api.create_order()))
    me = client_address()

    async def language(**kw: Any) -> str:
        answer = await page(api, token, **kw)
        assert answer.status_code == 200
        found = re.search(r'<html lang="(\w+)">', answer.text)
        assert found
        return found.group(1)

    api.client.cookies.clear()
    assert await language(headers={**me, "Accept-Language": "en-US,en;q=0.9,vi;q=0.8"}) == "en"
    assert await language(headers={**me, "Accept-Language": "fr-FR, vi;q=0.5, en;q=0.4"}) == "vi"
    assert await language(headers={**me, "Accept-Language": "de"}) == "vi"
    chosen = await page(api, token, params={"lang": "en"}, headers={**me, "Accept-Language": "vi"})
    assert "lang=en" in chosen.headers["set-cookie"] and '<html lang="en">' in chosen.text
    assert await language(headers={**me, "Accept-Language": "vi"}) == "en"  # remembered over her browser's
    assert await language(params={"lang": "vi"}, headers={**me, "Accept-Language": "en"}) == "vi"
