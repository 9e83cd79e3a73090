"""Outgoing webhooks: Standard Webhooks signatures, delivery with retries and exponential backoff."""

from __future__ import annotations

import datetime
import logging
import secrets

import anyio
import httpx
from standardwebhooks import Webhook

from couriers.sandbox.schemas import Attempt, WebhookRecord

log = logging.getLogger(__name__)


def new_message_id() -> str:
    # Standard Webhooks signs "id.timestamp.body": the id must never contain a dot (url-safe base64 has none).
    return "msg_" + secrets.token_urlsafe(18)


def signed_headers(signer: Webhook, message_id: str, body: bytes, now: datetime.datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(message_id, now, body.decode()),
    }


async def deliver(
    client: httpx.AsyncClient,
    url: str,
    signer: Webhook,
    record: WebhookRecord,
    body: bytes,
    *,
    attempts: int,
    backoff_s: float,
) -> None:
    """POST `body` until a 2xx, recording every attempt in `record`; each attempt is signed with its own time."""
    for attempt in range(attempts):
        if attempt:
            await anyio.sleep(backoff_s * 2 ** (attempt - 1))
        now = datetime.datetime.now(datetime.UTC)
        try:
            response = await client.post(url, content=body, headers=signed_headers(signer, record.id, body, now))
        # Broad on purpose: an in-process ASGI transport raises the receiving app's own exceptions, and those are
        # a failed delivery like any other, not a reason to fail the driver's call.
        except Exception as exc:
            log.warning("webhook %s to %s failed: %r", record.id, url, exc)
            record.attempts.append(Attempt(at=now, error=f"{type(exc).__name__}: {exc}"[:300]))
            continue
        record.attempts.append(Attempt(at=now, status_code=response.status_code))
        if response.is_success:
            record.delivered = True
            return
        if response.status_code == 410:
            return  # Standard Webhooks: 410 Gone means stop sending
