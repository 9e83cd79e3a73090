"""Zalo ZNS: an approved template id and its values, POSTed to the ZNS API with the OA's access token.

POST https://business.openapi.zalo.me/message/template, header `access_token`, body {phone (84xxxxxxxxx),
template_id, template_data, tracking_id}. HTTP 200 always; the body's `error` is 0 with data.msg_id on
success, else a negative code: -100 unknown (retry later), -108 invalid phone, -109 invalid template id,
-111/-112 empty or invalid template data, -118 no Zalo account, -119 the account cannot receive ZNS,
-124 invalid access token, -115 out of quota.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from notifications.policy import Channel
from notifications.providers.base import (
    OutboundMessage,
    PermanentProviderError,
    Receipt,
    TransientProviderError,
    Undeliverable,
    post_json,
    zalo_phone,
)

ZNS_URL = "https://business.openapi.zalo.me/message/template"
RETRY = {-100}
NOT_HERE = {-108, -118, -119}  # she cannot be reached on Zalo: SMS may reach her


@dataclass(frozen=True)
class ZnsConfig:
    access_token: str
    templates: Mapping[str, str] = field(default_factory=dict)  # our template name -> the approved ZNS template id
    url: str = ZNS_URL
    timeout_s: float = 10.0


class ZnsProvider:
    name = "zns"
    channel = Channel.ZALO

    def __init__(self, config: ZnsConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.client = client or httpx.AsyncClient()

    def payload(self, message: OutboundMessage) -> dict[str, object]:
        template_id = self.config.templates.get(message.template)
        if template_id is None:
            raise Undeliverable(f"no approved ZNS template for {message.template}", code="no_template")
        return {
            "phone": zalo_phone(message.to),
            "template_id": template_id,
            "template_data": dict(message.params),
            "tracking_id": message.id,
        }

    async def send(self, message: OutboundMessage) -> Receipt:
        payload = self.payload(message)
        body = await post_json(
            self.client, self.config.url, payload, self.config.timeout_s, {"access_token": self.config.access_token}
        )
        try:
            code = int(str(body.get("error")))
        except ValueError:
            raise TransientProviderError("ZNS answered without an error code", code="bad_json") from None
        said = f"ZNS {code}: {body.get('message') or 'refused'}"
        if code == 0:
            data = body.get("data")
            msg_id = data.get("msg_id") if isinstance(data, dict) else None
            return Receipt(provider_id=str(msg_id or message.id))
        if code in RETRY:
            raise TransientProviderError(said, code=str(code))
        if code in NOT_HERE:
            raise Undeliverable(said, code=str(code))
        raise PermanentProviderError(said, code=str(code))

    async def aclose(self) -> None:
        await self.client.aclose()
