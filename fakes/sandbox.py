"""Test helpers for the sandbox courier: in-process transports and a webhook endpoint that records and verifies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import httpx

from couriers.base import Courier, Event, Request, WebhookRejected


def asgi_transport(app: Any) -> httpx.ASGITransport:
    # httpx types ASGI apps with plain mappings, Litestar with its precise scope types: the same protocol.
    return httpx.ASGITransport(app=cast("Any", app))


def as_request(request: httpx.Request) -> Request:
    """An outgoing httpx request as a webhook endpoint receives it."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    return Request(headers=headers, query=dict(request.url.params), body=request.content)


@dataclass
class WebhookRecorder:
    """A shop's webhook endpoint for `httpx.MockTransport`: answers from `answers` first, then verifies through
    `courier.parse_webhook` (204, or 401 when rejected); keeps every request and every verified event."""

    courier: Courier | None = None
    answers: list[int] = field(default_factory=list)
    received: list[Request] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(as_request(request))
        if self.answers:
            return httpx.Response(self.answers.pop(0))
        if self.courier is None:
            return httpx.Response(204)
        try:
            self.events.extend(self.courier.parse_webhook(self.received[-1]))
        except WebhookRejected:
            return httpx.Response(401)
        return httpx.Response(204)
