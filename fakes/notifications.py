"""Fakes of the SMS gateway, Zalo ZNS and an SMTP server, reproducing their documented requests, answers and errors.

The HTTP fakes are Litestar apps (an httpx client reaches them in-process, with its read timeout kept); each
records what it received and takes faults a test queues: "timeout", "5xx", or a provider error code.
"""

from __future__ import annotations

import itertools
import socket
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import anyio
import httpx
from litestar import Litestar, Request, Response, post

# The service's own in-process transport, which keeps the client's read timeout as a socket would.
from orders_service.infra.runtime import InProcessTransport

HANG_S = 5.0


@dataclass
class _Fake:
    received: list[dict[str, Any]] = field(default_factory=list)  # every request body, faults included
    faults: deque[str] = field(default_factory=deque)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail(self, *faults: str) -> None:
        self.faults.extend(faults)

    async def _fault(self) -> str | None:
        fault = self.faults.popleft() if self.faults else None
        if fault == "timeout":
            await anyio.sleep(HANG_S)
        return fault

    def client(self, app: Litestar, base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=InProcessTransport(app=app), base_url=base_url)  # type: ignore[arg-type]


class FakeSmsGateway(_Fake):
    """eSMS's SendMultipleMessage_V4_post_json: keys, brandname, RequestId de-duplication, CodeResult codes."""

    PATH = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"

    def __init__(self, api_key: str = "esms-key", secret_key: str = "esms-secret", brandname: str = "MINSHOP") -> None:
        super().__init__()
        self.api_key, self.secret_key, self.brandnames = api_key, secret_key, {brandname}
        self.sent: dict[str, dict[str, Any]] = {}  # RequestId -> the SMS the gateway took
        self.app = Litestar([self._handler()], debug=False)

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("ApiKey") != self.api_key or body.get("SecretKey") != self.secret_key:
            return {"CodeResult": "101", "CountRegenerate": 0, "ErrorMessage": "Authorize Failed"}
        if body.get("Brandname") not in self.brandnames:
            return {"CodeResult": "104", "CountRegenerate": 0, "ErrorMessage": "Brand name code is not exist"}
        phone = str(body.get("Phone", ""))
        if not (phone.isdigit() and len(phone) == 10 and phone.startswith("0")):
            return {"CodeResult": "108", "CountRegenerate": 0, "ErrorMessage": "Phone not valid"}
        request_id = str(body.get("RequestId") or "")
        if request_id and request_id in self.sent:
            return {"CodeResult": "124", "CountRegenerate": 0, "ErrorMessage": "Request exist 1", "SendStatus": "5"}
        sms_id = f"esms-{next(self.ids)}"
        self.sent[request_id or sms_id] = {**body, "SMSID": sms_id}
        return {"CodeResult": "100", "CountRegenerate": 0, "SMSID": sms_id}

    def _handler(self) -> Any:
        @post(self.PATH, status_code=200)
        async def send(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await request.json()
            self.received.append(body)
            fault = await self._fault()
            if fault == "5xx":
                return Response({"error": "Service Unavailable"}, status_code=503)
            if fault == "lost":  # the gateway takes the SMS, but the answer never arrives
                self._answer(body)
                await anyio.sleep(HANG_S)
            if fault is not None and fault.isdigit():
                return Response({"CodeResult": fault, "CountRegenerate": 0, "ErrorMessage": "fault"})
            return Response(self._answer(body))

        return send

    def http(self) -> httpx.AsyncClient:
        return self.client(self.app, "http://esms.test")


class FakeZns(_Fake):
    """Zalo's POST /message/template: access_token header, 84xxxxxxxxx phone, known template ids, error codes."""

    def __init__(self, access_token: str = "zns-token", templates: dict[str, set[str]] | None = None) -> None:
        super().__init__()
        self.access_token = access_token
        self.templates = templates or {}  # template id -> the params it needs
        self.no_zalo: set[str] = set()  # phones without a Zalo account
        self.sent: list[dict[str, Any]] = []
        self.app = Litestar([self._handler()], debug=False)

    def _answer(self, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        if token != self.access_token:
            return {"error": -124, "message": "Access token invalid"}
        phone = str(body.get("phone", ""))
        if not (phone.isdigit() and phone.startswith("84") and len(phone) == 11):
            return {"error": -108, "message": "Phone number invalid"}
        template = self.templates.get(str(body.get("template_id")))
        if template is None:
            return {"error": -109, "message": "Template ID invalid"}
        data = body.get("template_data")
        if not isinstance(data, dict) or not data:
            return {"error": -111, "message": "Template data empty"}
        if not template <= data.keys():
            return {"error": -112, "message": "Template data invalid"}
        if phone in self.no_zalo:
            return {"error": -118, "message": "Zalo account not existed"}
        msg_id = f"zns-{next(self.ids)}"
        self.sent.append({**body, "msg_id": msg_id})
        return {"error": 0, "message": "Success", "data": {"msg_id": msg_id, "sent_time": "1700000000000"}}

    def _handler(self) -> Any:
        @post("/message/template", status_code=200)
        async def send(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await request.json()
            self.received.append(body)
            fault = await self._fault()
            if fault == "5xx":
                return Response({"error": "bad gateway"}, status_code=502)
            if fault is not None and fault.lstrip("-").isdigit():
                return Response({"error": int(fault), "message": "fault"})
            return Response(self._answer(request.headers.get("access_token"), body))

        return send

    def http(self) -> httpx.AsyncClient:
        return self.client(self.app, "http://zns.test")


class FakeSmtp:
    """An SMTP server (aiosmtpd) on a free local port that keeps what it accepted; faults are SMTP reply lines."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller  # a test dependency: only the fake needs it

        self.messages: list[Message] = []
        self.faults: deque[str] = deque()  # e.g. "451 4.3.0 try again later", "550 5.1.1 no such user"
        with socket.socket() as probe:  # a free port: aiosmtpd checks it is up by connecting to the port it was given
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the hook aiosmtpd calls
        if self.faults:
            return self.faults.popleft()
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def __enter__(self) -> FakeSmtp:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


__all__ = ["FakeSmsGateway", "FakeSmtp", "FakeZns"]
