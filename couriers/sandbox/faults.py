"""Fault injection for tests and benches: failed calls, lost create answers, latency; calls counted per endpoint."""

from __future__ import annotations

import collections
from dataclasses import dataclass

import anyio

from couriers.sandbox.rules import Injected
from couriers.sandbox.schemas import FaultsIn, FaultsOut


@dataclass
class Faults:
    fail_next: int = 0
    status_code: int = 500
    lose_next_create_response: bool = False
    delay_ms: int = 0


class FaultControls:
    """What a test can make the courier API do wrong; mixed into the sandbox service."""

    def __init__(self) -> None:
        self.faults = Faults()
        self.calls: collections.Counter[str] = collections.Counter()

    def set_faults(
        self,
        *,
        fail_next: int | None = None,
        status_code: int = 500,
        lose_next_create_response: bool | None = None,
        delay_ms: int | None = None,
    ) -> FaultsOut:
        """Faults for the next API calls; arguments left out keep their current value."""
        if fail_next is not None:
            self.faults.fail_next, self.faults.status_code = fail_next, status_code
        if lose_next_create_response is not None:
            self.faults.lose_next_create_response = lose_next_create_response
        if delay_ms is not None:
            self.faults.delay_ms = delay_ms
        return self.faults_state()

    def fail_next(self, count: int = 1, status_code: int = 500) -> None:
        self.set_faults(fail_next=count, status_code=status_code)

    def lose_next_create_response(self) -> None:
        self.set_faults(lose_next_create_response=True)

    def delay(self, ms: int) -> None:
        self.set_faults(delay_ms=ms)

    def clear_faults(self) -> None:
        self.faults = Faults()

    def apply_faults(self, data: FaultsIn) -> FaultsOut:
        return self.set_faults(
            fail_next=data.fail_next,
            status_code=data.status_code,
            lose_next_create_response=data.lose_next_create_response,
            delay_ms=data.delay_ms,
        )

    def faults_state(self) -> FaultsOut:
        f = self.faults
        return FaultsOut(f.fail_next, f.status_code, f.lose_next_create_response, f.delay_ms, dict(self.calls))

    async def enter(self, endpoint: str) -> None:
        """Count an API call and play the faults asked for; called first by every API route."""
        self.calls[endpoint] += 1
        if self.faults.delay_ms:
            await anyio.sleep(self.faults.delay_ms / 1000)
        if self.faults.fail_next > 0:
            self.faults.fail_next -= 1
            raise Injected(self.faults.status_code, f"injected failure of {endpoint}")

    def lose_create_answer(self) -> None:
        """After a create is stored: answer 504 if asked to, as a timed-out create looks from outside."""
        if self.faults.lose_next_create_response:
            self.faults.lose_next_create_response = False
            raise Injected(504, "injected loss of the create response; the parcel was created")
