"""GHTK cancels only before pickup (couriers.md §2.4): every status where it refuses a cancel counts as picked up
on our ladder, so that the sync never plans a cancel-and-recreate GHTK would refuse."""

from __future__ import annotations

import httpx
import pytest

from couriers.base import PermanentCourierError, Status
from couriers.ghtk import STATUSES, GhtkCourier
from couriers.ghtk.statuses import SHIPPER_REPORTS as REPORTS
from fakes.ghtk.server import FakeGhtk
from tests.contract.test_ghtk import BASE, config, parcel

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("status_id", sorted(set(STATUSES) - REPORTS - {-1}))
async def test_a_status_ghtk_will_not_cancel_in_counts_as_picked_up(status_id: int) -> None:
    fake = FakeGhtk(token="tok-123", partner_code="S1000")
    async with httpx.AsyncClient(transport=fake.transport(), base_url=BASE) as client:
        courier = GhtkCourier(config(), client)
        label = (await courier.create(parcel())).tracking_code
        fake.set_status(label, status_id)
        try:
            await courier.cancel(label)
        except PermanentCourierError:
            cancelled = False
        else:
            cancelled = True
    assert cancelled == (STATUSES[status_id][0] is Status.CREATED)  # CREATED: before pickup, where we recreate
