"""The provider interface, what it sends, and its two kinds of failure: try again later, or never."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from notifications.policy import Channel, Purpose


@dataclass(frozen=True)
class OutboundMessage:
    id: str  # our notification id: the provider's request/tracking id, so a retry is recognised
    channel: Channel
    to: str  # E.164 phone (+84...) or an email address
    template: str
    purpose: Purpose
    subject: str
    body: str
    params: Mapping[str, str] = field(default_factory=dict)  # the template's values as text (Zalo ZNS sends these)
    unsubscribe_url: str | None = None


@dataclass(frozen=True)
class Receipt:
    provider_id: str  # the provider's message id


class ProviderError(Exception):
    """A provider did not take the message. `transient` ones are retried with backoff; the others are recorded."""

    transient = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.code = message, code


class TransientProviderError(ProviderError):
    """Timeouts, connection errors, 5xx, rate limits, an unknown error the provider says to retry."""

    transient = True


class PermanentProviderError(ProviderError):
    """Bad credentials, a rejected template, no balance: the same call fails again; staff must act."""


class Undeliverable(PermanentProviderError):
    """This channel cannot reach this recipient (no Zalo account, invalid number): another channel may."""


class Provider(Protocol):
    name: str
    channel: Channel

    async def send(self, message: OutboundMessage) -> Receipt: ...

    async def aclose(self) -> None: ...


def local_phone(e164: str) -> str:
    """+84901234567 -> 0901234567, the form Vietnamese SMS gateways document."""
    return "0" + e164[3:] if e164.startswith("+84") else e164


def zalo_phone(e164: str) -> str:
    """+84901234567 -> 84901234567, the form Zalo ZNS documents."""
    return e164.lstrip("+")


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    payload: Mapping[str, object],
    timeout_s: float,
    headers: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """POST and decode, with transport failures, 429 and 5xx raised as transient, other non-2xx as permanent."""
    try:
        response = await client.post(url, json=payload, headers=dict(headers or {}), timeout=timeout_s)
    except httpx.TimeoutException as error:
        raise TransientProviderError(f"no answer in time ({type(error).__name__})", code="timeout") from None
    except httpx.TransportError as error:
        raise TransientProviderError(f"cannot connect ({type(error).__name__})", code="connection") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientProviderError(f"HTTP {response.status_code}", code=str(response.status_code))
    if response.status_code >= 400:
        said = f"HTTP {response.status_code}: {response.text[:200]}"
        raise PermanentProviderError(said, code=str(response.status_code))
    try:
        body = response.json()
    except ValueError:
        raise TransientProviderError("the answer is not JSON", code="bad_json") from None
    if not isinstance(body, dict):
        raise TransientProviderError("the answer is not a JSON object", code="bad_json")
    return body
