"""The sandbox courier's state and operations, behind its HTTP routes: parcels, persistence, webhooks."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec
from msgspec import UNSET
from standardwebhooks import Webhook

from couriers.sandbox import rules
from couriers.sandbox.faults import FaultControls
from couriers.sandbox.rules import Conflict, FeeTable, NotFound
from couriers.sandbox.schemas import (
    CreatedOut,
    EventIn,
    EventOut,
    HistoryEntry,
    QuoteIn,
    QuoteOut,
    Shipment,
    ShipmentIn,
    ShipmentPatch,
    WebhookPayload,
    WebhookRecord,
)
from couriers.sandbox.store import Store
from couriers.sandbox.webhooks import deliver, new_message_id


@dataclass(frozen=True)
class SandboxServerConfig:
    token: str  # Bearer token of the API, the test-driver endpoints included
    webhook_secret: str  # Standard Webhooks "whsec_<base64>"
    webhook_url: str | None = None  # None: record webhooks without sending them
    webhook_attempts: int = 5
    webhook_backoff_s: float = 0.5  # before the 2nd attempt; doubles after each failure
    webhook_timeout_s: float = 10.0
    fees: FeeTable = field(default_factory=FeeTable)
    lead_days: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(rules.LEAD_DAYS))
    store_path: Path | None = None
    # Another Bearer credential the test-driver endpoints accept (the service passes a check of its API keys).
    driver_key: Callable[[str], Awaitable[bool]] | None = None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class SandboxService(FaultControls):
    """Parcels by tracking code, the rules of `rules`, persistence, and the webhooks the test driver triggers."""

    def __init__(self, config: SandboxServerConfig, distance_km: Callable[[int, int], float]) -> None:
        super().__init__()
        self.config = config
        self._distance_km = distance_km
        self._signer = Webhook(config.webhook_secret)  # fails now, not at the first webhook, on a bad secret
        self._store = Store(config.store_path) if config.store_path else None
        loaded = self._store.load() if self._store else []
        self.shipments: dict[str, Shipment] = {s.tracking_code: s for s in loaded}
        self._by_client: dict[str, str] = {s.client_code: s.tracking_code for s in loaded}
        self._client: httpx.AsyncClient | None = None
        self._owns_client = False

    # -- webhook client --------------------------------------------------------------------------------------

    def set_webhook_client(self, client: httpx.AsyncClient) -> None:
        """Send webhooks through `client` (the embedded server passes an in-process ASGI transport)."""
        self._client, self._owns_client = client, False

    def webhook_timeout(self) -> httpx.Timeout:
        """How long one webhook attempt waits for the receiver's answer: the same for an injected client."""
        return httpx.Timeout(self.config.webhook_timeout_s, connect=min(5.0, self.config.webhook_timeout_s))

    def _webhook_client(self) -> httpx.AsyncClient:
        if self._client is None:
            # Created on first use so that an injected client never leaves an unused default behind.
            self._client, self._owns_client = httpx.AsyncClient(timeout=self.webhook_timeout()), True
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    # -- the courier API -------------------------------------------------------------------------------------

    async def create(self, data: ShipmentIn) -> CreatedOut:
        if (existing := self._by_client.get(data.client_code)) is not None:
            raise Conflict(
                "duplicate-client-code",
                f"client_code {data.client_code} already names parcel {existing}",
                tracking_code=existing,
            )
        fee, zone = self._quote(data.origin_province, data.address.province_code, data.weight_g)
        code = rules.new_tracking_code()
        while code in self.shipments:
            code = rules.new_tracking_code()
        now = _now()
        fields = msgspec.structs.asdict(data)
        fields |= {"phones": list(data.phones), "items": list(data.items)}
        shipment = Shipment(
            tracking_code=code,
            status="created",
            fee=fee,
            zone=zone,
            created_at=now,
            updated_at=now,
            history=[HistoryEntry(status="created", at=now)],
            **fields,
        )
        self.shipments[code], self._by_client[data.client_code] = shipment, code
        await self._save(shipment)
        self.lose_create_answer()
        return CreatedOut(tracking_code=code, status=shipment.status, fee=fee)

    def get(self, tracking_code: str) -> Shipment:
        if (shipment := self.shipments.get(tracking_code)) is None:
            raise NotFound("no-such-parcel", f"no parcel {tracking_code}")
        return shipment

    def find(self, client_code: str) -> Shipment:
        if (code := self._by_client.get(client_code)) is None:
            raise NotFound("no-such-parcel", f"no parcel with client_code {client_code}")
        return self.shipments[code]

    async def update(self, tracking_code: str, patch: ShipmentPatch) -> Shipment:
        shipment = self.get(tracking_code)
        rules.check_patch(shipment.status, patch)
        if patch.recipient_name is not UNSET:
            shipment.recipient_name = patch.recipient_name
        if patch.phones is not UNSET:
            shipment.phones = list(patch.phones)
        if patch.address is not UNSET:
            shipment.address = patch.address
            # A new province can change the zone, as a real courier re-prices a redirected parcel.
            shipment.fee, shipment.zone = self._quote(
                shipment.origin_province, patch.address.province_code, shipment.weight_g
            )
        if patch.cod_amount is not UNSET:
            shipment.cod_amount = patch.cod_amount
        if patch.items is not UNSET:
            shipment.items = list(patch.items)
        shipment.updated_at = _now()
        await self._save(shipment)
        return shipment

    async def cancel(self, tracking_code: str) -> Shipment:
        shipment = self.get(tracking_code)
        if rules.check_cancel(shipment.status):
            self._move(shipment, ["cancelled"])
            await self._save(shipment)
        return shipment

    def quote(self, data: QuoteIn) -> QuoteOut:
        fee, zone = self._quote(data.origin_province, data.province_code, data.weight_g)
        min_days, max_days = self.config.lead_days[zone]
        return QuoteOut(fee=fee, zone=zone, min_days=min_days, max_days=max_days)

    # -- the test driver -------------------------------------------------------------------------------------

    async def record_event(self, tracking_code: str, event: EventIn) -> EventOut:
        """Move the parcel as the driver says, then tell the shop by a signed webhook, retried until it lands."""
        shipment = self.get(tracking_code)
        steps = rules.path_to(shipment.status, event.status)
        if event.status != "delivered" and (event.kept is not None or event.cod_collected is not None):
            raise rules.Invalid("not-a-delivery", "kept and cod_collected go only with status delivered")
        kept, cod_collected = None, None
        if event.status == "delivered":
            final, kept, cod_collected = rules.settle(
                shipment.items, shipment.cod_amount, shipment.value, event.kept, event.cod_collected
            )
            steps[-1] = final
            shipment.kept, shipment.cod_collected = kept, cod_collected
        at = self._move(shipment, steps)
        record = WebhookRecord(id=new_message_id(), seq=len(shipment.webhooks) + 1, status=shipment.status)
        shipment.webhooks.append(record)
        payload = WebhookPayload(
            id=record.id,
            type="shipment.status",
            tracking_code=shipment.tracking_code,
            client_code=shipment.client_code,
            status=shipment.status,
            occurred_at=at,
            seq=record.seq,
            kept=kept,
            cod_collected=cod_collected,
        )
        await self._save(shipment)
        if self.config.webhook_url is not None:
            await deliver(
                self._webhook_client(),
                self.config.webhook_url,
                self._signer,
                record,
                msgspec.json.encode(payload),
                attempts=self.config.webhook_attempts,
                backoff_s=self.config.webhook_backoff_s,
            )
            await self._save(shipment)
        return EventOut(
            status=shipment.status,
            seq=record.seq,
            webhook_id=record.id,
            delivered=record.delivered,
            attempts=len(record.attempts),
            shipment=shipment,
        )

    # -- helpers ---------------------------------------------------------------------------------------------

    def _quote(self, origin: int, dest: int, weight_g: int) -> tuple[int, str]:
        return self.config.fees.quote(origin, dest, weight_g, self._distance_km)

    @staticmethod
    def _move(shipment: Shipment, steps: list[str]) -> datetime.datetime:
        now = _now()
        shipment.history.extend(HistoryEntry(status=s, at=now, implied=i < len(steps) - 1) for i, s in enumerate(steps))
        shipment.status, shipment.updated_at = steps[-1], now
        return now

    async def _save(self, changed: Shipment) -> None:
        if self._store is not None:
            await self._store.save(self.shipments, changed)
