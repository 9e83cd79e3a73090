"""Providers against their fakes: the exact outgoing request, and each failure classified transient or permanent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fakes import notifications as notification_fakes
from fakes.notifications import FakeSmsGateway, FakeSmtp, FakeZns
from notifications.policy import Channel, Purpose
from notifications.providers import (
    OutboundMessage,
    PermanentProviderError,
    SmsGateway,
    SmsGatewayConfig,
    SmtpConfig,
    SmtpProvider,
    TransientProviderError,
    Undeliverable,
    ZnsConfig,
    ZnsProvider,
)

pytestmark = pytest.mark.anyio
MESSAGE = OutboundMessage(
    id="0190a-msg",
    channel=Channel.SMS,
    to="+84901234567",
    template="shipped",
    purpose=Purpose.TRANSACTIONAL,
    subject="Min: đơn DH1 đang được giao",
    body="Min: đơn DH1 đang được giao. Số tiền cần thanh toán khi nhận hàng: 350.000 ₫.",
    params={"code": "DH1", "cod": "350.000 ₫"},
)


@pytest.fixture(autouse=True)
def short_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notification_fakes, "HANG_S", 1.0)


@pytest.fixture
async def sms() -> AsyncIterator[tuple[FakeSmsGateway, SmsGateway]]:
    fake = FakeSmsGateway()
    config = SmsGatewayConfig("esms-key", "esms-secret", "MINSHOP", url=f"http://esms.test{fake.PATH}", timeout_s=0.3)
    provider = SmsGateway(config, fake.http())
    yield fake, provider
    await provider.aclose()


@pytest.fixture
async def zns() -> AsyncIterator[tuple[FakeZns, ZnsProvider]]:
    fake = FakeZns(templates={"231001": {"code", "cod"}})
    config = ZnsConfig("zns-token", {"shipped": "231001"}, url="http://zns.test/message/template", timeout_s=0.3)
    provider = ZnsProvider(config, fake.http())
    yield fake, provider
    await provider.aclose()


async def test_sms_gateway_request_and_a_retry_that_is_not_a_second_sms(sms: tuple[FakeSmsGateway, SmsGateway]) -> None:
    fake, provider = sms
    receipt = await provider.send(MESSAGE)
    assert fake.received == [
        {
            "ApiKey": "esms-key",
            "SecretKey": "esms-secret",
            "Phone": "0901234567",
            "Content": MESSAGE.body,
            "Brandname": "MINSHOP",
            "SmsType": "2",
            "IsUnicode": "1",
            "RequestId": "0190a-msg",
            "campaignid": "shipped",
        }
    ]
    assert receipt.provider_id == "esms-1"
    again = await provider.send(MESSAGE)  # the answer was lost and we ask again: code 124, the same SMS
    assert again.provider_id == "request-0190a-msg" and len(fake.sent) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("timeout", TransientProviderError),
        ("5xx", TransientProviderError),
        ("146", PermanentProviderError),  # template not registered for the brandname
        ("101", PermanentProviderError),  # bad keys
        ("108", Undeliverable),  # bad phone: another channel may reach her
    ],
)
async def test_sms_gateway_faults(sms: tuple[FakeSmsGateway, SmsGateway], fault: str, error: type[Exception]) -> None:
    fake, provider = sms
    fake.fail(fault)
    with pytest.raises(error) as raised:
        await provider.send(MESSAGE)
    assert type(raised.value) is error
    assert not fake.sent


async def test_zns_request(zns: tuple[FakeZns, ZnsProvider]) -> None:
    fake, provider = zns
    receipt = await provider.send(MESSAGE)
    assert fake.sent[0] | {"msg_id": None} == {
        "phone": "84901234567",
        "template_id": "231001",
        "template_data": {"code": "DH1", "cod": "350.000 ₫"},
        "tracking_id": "0190a-msg",
        "msg_id": None,
    }
    assert receipt.provider_id == "zns-1"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("timeout", TransientProviderError),
        ("5xx", TransientProviderError),
        ("-100", TransientProviderError),  # unknown error: try again later
        ("-112", PermanentProviderError),  # template data rejected
        ("-124", PermanentProviderError),  # access token invalid
        ("-118", Undeliverable),  # no Zalo account: SMS may reach her
    ],
)
async def test_zns_faults(zns: tuple[FakeZns, ZnsProvider], fault: str, error: type[Exception]) -> None:
    fake, provider = zns
    fake.fail(fault)
    with pytest.raises(error) as raised:
        await provider.send(MESSAGE)
    assert type(raised.value) is error


async def test_zns_refuses_a_template_it_has_not_approved(zns: tuple[FakeZns, ZnsProvider]) -> None:
    fake, provider = zns
    fake.templates["231001"] = {"code", "cod", "tracking_code"}
    with pytest.raises(PermanentProviderError, match="-112"):
        await provider.send(MESSAGE)
    with pytest.raises(Undeliverable, match="no approved ZNS template"):
        await provider.send(OutboundMessage(**{**MESSAGE.__dict__, "template": "birthday"}))


async def test_smtp_sends_with_unsubscribe_header_and_classifies_replies() -> None:
    with FakeSmtp() as server:
        provider = SmtpProvider(SmtpConfig("127.0.0.1", "Min <shop@min.vn>", port=server.port, starttls=False))
        email = OutboundMessage(
            **{**MESSAGE.__dict__, "channel": Channel.EMAIL, "to": "lan@example.vn", "unsubscribe_url": "http://u/x"}
        )
        receipt = await provider.send(email)
        sent = server.messages[0]
        assert (sent["To"], sent["Subject"], sent["List-Unsubscribe"]) == (
            "lan@example.vn",
            email.subject,
            "<http://u/x>",
        )
        assert receipt.provider_id == "<0190a-msg@min.vn>"
        server.faults.append("451 4.3.0 try again later")
        with pytest.raises(TransientProviderError):
            await provider.send(email)
        server.faults.append("554 5.7.1 rejected")
        with pytest.raises(PermanentProviderError):
            await provider.send(email)
    with pytest.raises(TransientProviderError):  # the server is gone: connection refused
        await provider.send(email)
