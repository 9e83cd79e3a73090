"""Brandname SMS over an HTTP gateway, in the form Vietnamese gateways document (eSMS's JSON API).

POST {url} with ApiKey, SecretKey, Phone (0xxxxxxxxx), Content, Brandname, SmsType 2 (customer care),
IsUnicode, RequestId. The answer is HTTP 200 with CodeResult "100" and an SMSID, or an error code:
101 bad keys, 103 no balance, 104 unknown brandname, 108 bad phone, 146 template not registered, and
124 "RequestId already received", which means the gateway has this very message: a retry after a lost
answer, not a second SMS.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from notifications.policy import Channel
from notifications.providers.base import (
    OutboundMessage,
    PermanentProviderError,
    Receipt,
    Undeliverable,
    local_phone,
    post_json,
)

ESMS_URL = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"
OK, DUPLICATE_REQUEST, BAD_PHONE = "100", "124", "108"
PERMANENT = {
    "101": "bad ApiKey or SecretKey",
    "102": "no price list for this account",
    "103": "not enough balance",
    "104": "brandname not registered",
    "118": "message type not supported",
    "140": "this server's IP is not allowed",
    "146": "template not registered for this brandname",
}


@dataclass(frozen=True)
class SmsGatewayConfig:
    api_key: str
    secret_key: str
    brandname: str
    url: str = ESMS_URL
    sms_type: str = "2"
    timeout_s: float = 10.0


class SmsGateway:
    name = "sms_gateway"
    channel = Channel.SMS

    def __init__(self, config: SmsGatewayConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.client = client or httpx.AsyncClient()

    def payload(self, message: OutboundMessage) -> dict[str, str]:
        return {
            "ApiKey": self.config.api_key,
            "SecretKey": self.config.secret_key,
            "Phone": local_phone(message.to),
            "Content": message.body,
            "Brandname": self.config.brandname,
            "SmsType": self.config.sms_type,
            "IsUnicode": "0" if message.body.isascii() else "1",
            "RequestId": message.id,
            "campaignid": message.template,
        }

    async def send(self, message: OutboundMessage) -> Receipt:
        body = await post_json(self.client, self.config.url, self.payload(message), self.config.timeout_s)
        code = str(body.get("CodeResult", ""))
        if code == OK:
            return Receipt(provider_id=str(body.get("SMSID") or message.id))
        if code == DUPLICATE_REQUEST:
            return Receipt(provider_id=f"request-{message.id}")
        said = str(body.get("ErrorMessage") or PERMANENT.get(code) or "refused")
        if code == BAD_PHONE:
            raise Undeliverable(f"SMS gateway {code}: {said}", code=code)
        raise PermanentProviderError(f"SMS gateway {code or 'without a code'}: {said}", code=code or None)

    async def aclose(self) -> None:
        await self.client.aclose()
