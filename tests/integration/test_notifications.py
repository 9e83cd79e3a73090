"""Notifications through HTTP only: each trigger makes exactly one message, also when a webhook comes twice;
campaigns, consent and the unsubscribe link. The default log provider, on every engine."""

from __future__ import annotations

import datetime
import re
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.pool import NullPool

from orders_service.db.engine import begin_write, create_engine
from orders_service.db.models import Order as OrderRow
from orders_service.infra.runtime import session_info
from orders_service.infra.settings import Settings
from orders_service.messaging.triggers import queue_edit_link_message
from tests.integration.api import Api, Shipping, eventually, random_mobile
from tests.integration.test_campaigns import this_month
from tests.integration.test_loyalty import signed

pytestmark = pytest.mark.anyio


async def messages(api: Api, **query: str) -> list[dict[str, Any]]:
    response = await api.request("GET", "/api/notifications", params={**query, "limit": "200"})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))  # oldest first


async def settled(api: Api, count: int, **query: str) -> list[dict[str, Any]]:
    """The messages once `count` exist and none is waiting for the relay (deferred ones say until when)."""

    async def check() -> list[dict[str, Any]] | None:
        found = await messages(api, **query)
        waiting = [m for m in found if m["status"] == "queued" and m["deferred_until"] is None]
        return found if len(found) == count and not waiting else None

    return await eventually(check)


async def test_each_trigger_makes_one_message_even_when_the_webhook_comes_again(api: Api) -> None:
    shipping = Shipping(api)
    order = await api.create_order()  # a 450.000 ₫ dress and 30.000 ₫ shipping
    line = order["lines"][0]["id"]
    amended = await api.amend(order, {"op": "swap_variant", "line_id": line, "size": "S", "unit_price": 320000})
    assert amended.status_code == 200, amended.text
    shipped = await shipping.ship(amended.json())
    tracking = shipped["shipment"]["tracking_code"]
    await shipping.courier_event(tracking, "picked")
    await shipping.courier_event(tracking, "delivered")
    at = datetime.datetime.now(datetime.UTC).isoformat()
    for message_id in ("msg_again_1", "msg_again_2"):  # the courier sends "delivered" twice more
        event = {"id": message_id, "type": "shipment.status", "tracking_code": tracking, "client_code": order["code"]}
        event |= {"status": "delivered", "occurred_at": at, "seq": 99}
        response = await api.client.post("/webhooks/couriers/sandbox", **signed(api, event, message_id))
        assert response.status_code == 200, response.text

    found = await settled(api, 3, order_id=order["id"])
    # The relay makes each message from its own outbox row, so two made a few milliseconds apart (shipped, then
    # delivered) may be made, and listed, in either order: they are compared in the order of their causes.
    causes = ["order_amended", "shipped", "delivered"]
    found.sort(key=lambda m: causes.index(m["template"]) if m["template"] in causes else len(causes))
    assert [(m["template"], m["status"], m["channel"]) for m in found] == [
        ("order_amended", "sent", "zalo"),
        ("shipped", "sent", "zalo"),
        ("delivered", "sent", "zalo"),
    ]
    phone = order["recipient"]["phones"][0]
    assert {m["to"] for m in found} == {phone}
    code = order["code"]
    assert found[0]["body"] == (
        f"Cửa hàng: đơn {code} đã được cập nhật (sản phẩm). "
        "Số tiền cần thanh toán khi nhận hàng: 350.000 ₫ (trước đây 480.000 ₫)."
    )
    assert f"mã vận đơn {tracking}" in found[1]["body"] and "350.000 ₫" in found[1]["body"]
    assert "giá trị 320.000 ₫" in found[2]["body"] and "cộng 32 điểm" in found[2]["body"]
    # Her first completed order made her standard: a marketing message, held back without her consent.
    mine = await settled(api, 4, customer_id=order["customer_id"])
    upgrade = [m for m in mine if m["template"] == "tier_upgraded"]
    assert [(m["status"], m["purpose"]) for m in upgrade] == [("suppressed", "marketing")]
    assert upgrade[0]["reason"].startswith("no marketing consent")


async def test_edit_link_message_is_queued_once_per_link(api: Api, settings: Settings) -> None:
    order = await api.create_order()
    expires = datetime.datetime(2026, 3, 12, 3, 0, tzinfo=datetime.UTC)
    # Its own engine, as the edit-link endpoint's transaction would have one: the app's lives on the server's loop.
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with async_sessionmaker(engine, info=session_info(settings))() as session, session.begin():
            await begin_write(session)
            row = await session.get(OrderRow, UUID(order["id"]))
            assert row is not None
            for _ in range(2):  # called twice for one link (a retried request): still one message
                await queue_edit_link_message(session, row, "http://shop.test/o/secret-token", expires)
    finally:
        await engine.dispose()
    found = await settled(api, 1, order_id=order["id"])
    assert found[0]["template"] == "edit_link" and found[0]["status"] == "sent"
    assert "http://shop.test/o/secret-token" in found[0]["body"] and "10:00 12/03/2026" in found[0]["body"]


async def customer(api: Api, name: str, birthday: str) -> dict[str, Any]:
    body = {"full_name": name, "phones": [random_mobile()], "birthday": birthday}
    response = await api.request("POST", "/api/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def campaign(api: Api, **body: Any) -> dict[str, Any]:
    """A dry run's answer, or a real send's campaign once the relay has handled every member."""
    response = await api.request("POST", "/api/campaigns", json={"segment": "birthday_this_month", **body})
    assert response.status_code in (200, 202), response.text
    if body.get("dry_run"):
        return dict(response.json())

    async def done() -> dict[str, Any] | None:
        found = (await api.request("GET", response.headers["Location"])).json()
        return dict(found) if found["state"] == "done" else None

    return dict(await eventually(done))


async def test_campaign_dry_run_consent_and_the_unsubscribe_link(api: Api, time_of_day: str | None) -> None:
    birthday = this_month()
    lan, mai = await customer(api, "Lan", birthday), await customer(api, "Mai", birthday)
    granted = await api.request(
        "POST",
        f"/api/customers/{lan['id']}/consents",
        json={"consents": [{"channel": "sms", "purpose": "marketing", "state": "granted"}], "source": "pos"},
    )
    assert granted.status_code == 200 and granted.json()["consents"][0]["state"] == "granted", granted.text

    preview = await campaign(api, template="promotion", message="Giảm 20% cuối tuần.", dry_run=True)
    reached = preview["would_send"] + preview["deferred"]
    assert (preview["recipients"], reached, preview["suppressed_total"]) == (2, 1, 1)
    if time_of_day is not None:  # inside quiet hours she would wait, outside them she would get it now
        assert preview["deferred"] == (time_of_day == "quiet-hours")
    assert [s["customer_id"] for s in preview["suppressed"]] == [mai["id"]]
    assert preview["suppressed"][0]["reason"].startswith("no marketing consent")
    assert list(preview["suppressed_reasons"].values()) == [1]
    assert await messages(api) == []  # a dry run writes nothing

    sent = await campaign(api, template="promotion", message="Giảm 20% cuối tuần.", key="weekend-1")
    assert (sent["key"], sent["recipients"], sent["queued"], sent["suppressed"]) == ("weekend-1", 2, 1, 1)
    again = await campaign(api, template="promotion", message="Giảm 20% cuối tuần.", key="weekend-1")
    assert (again["queued"], again["processed"]) == (1, 2)  # the same campaign: nobody reached twice
    to_lan = (await settled(api, 1, customer_id=lan["id"]))[0]
    assert to_lan["body"].startswith("[QC] Cửa hàng gửi Lan: Giảm 20% cuối tuần.")
    # By SMS, her one consented channel: held by quiet hours inside them, sent outside them.
    assert to_lan["channel"] == "sms"
    quiet = (to_lan["status"], to_lan["reason"]) == ("queued", "quiet hours: deferred to 07:00 local time")
    assert quiet if time_of_day == "quiet-hours" else to_lan["status"] == "sent" or (time_of_day is None and quiet)
    assert (await settled(api, 1, customer_id=mai["id"]))[0]["status"] == "suppressed"

    link = re.search(r"/u/[A-Za-z0-9_-]+", to_lan["body"])
    assert link is not None
    page = await api.client.get(link.group(0))  # no key: the token is the key
    assert page.status_code == 200 and "Từ chối nhận tin" in page.text
    assert (await api.client.post(link.group(0))).status_code == 200
    assert (await api.client.get("/u/not-a-token")).status_code == 404
    consents = (await api.request("GET", f"/api/customers/{lan['id']}/consents")).json()
    assert consents["opted_out"] is True
    assert {(c["channel"], c["state"]) for c in consents["consents"]} == {
        ("sms", "withdrawn"),
        ("zalo", "withdrawn"),
        ("email", "withdrawn"),
    }
    after = await campaign(api, template="promotion", message="Giảm 20% cuối tuần.", dry_run=True)
    assert {s["customer_id"]: s["reason"] for s in after["suppressed"]}[lan["id"]] == "opted out of marketing messages"
    assert after["suppressed_total"] == 2


async def test_bad_input_is_a_problem_naming_the_field(api: Api) -> None:
    unknown = await api.request("POST", "/api/campaigns", json={"segment": "nope", "template": "promotion"})
    assert unknown.status_code == 422 and "segment" in unknown.text
    no_text = await api.request("POST", "/api/campaigns", json={"segment": "vip", "template": "promotion"})
    assert no_text.status_code == 422 and "message" in no_text.text
    status = await api.request("GET", "/api/notifications", params={"status": "lost"})
    assert status.status_code in (400, 422) and "status" in status.text
