"""Fault scenarios, by name. Each one breaks a courier in one way, checks what the service must still do, and
returns its figures. Items of issue 16 add theirs here: `SCENARIOS[name] = Scenario(item, what, run)`.

A scenario's `run(stand, courier, options)` gets a fresh service (see stand.py) and the courier to break; the
other courier is there too, to show that it keeps working.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from courier_faults import aspects, truth
from courier_faults.base import Options, Result, Scenario, other
from courier_faults.stand import Stand

__all__ = ["SCENARIOS", "Options", "Result", "Scenario"]


async def _one_slow_order(stand: Stand, courier: str, options: Options, *, hang: bool) -> Result:
    """Item 1: every call about one order answers late (slower than the timeout) or never, for `fault_s`."""
    result = Result()
    way = stand.faults[courier]
    stuck = await stand.create_order(courier)
    if hang:
        way.hang(stuck["code"])
    else:
        way.slow(stuck["code"], options.timeout_s * 1.5)
    fault_started = time.monotonic()
    await stand.ship(stuck)

    # While the fault lasts: other orders at this courier and the other one are shipped, and must sync.
    others = [await stand.create_order(courier if i % 2 == 0 else other(courier)) for i in range(options.others)]
    latencies: list[float] = []
    late: list[str] = []
    for order in others:
        await stand.ship(order)
        took = await stand.wait_synced(order["id"], max(0.5, options.fault_s - (time.monotonic() - fault_started)))
        (latencies.append(took) if took is not None else late.append(order["code"]))
    remaining = options.fault_s - (time.monotonic() - fault_started)
    if remaining > 0:
        await asyncio.sleep(remaining)
    during = not await stand.synced(stuck["id"])
    result.check("the broken order waits while the fault lasts", during)
    result.check(
        f"{options.others} other orders ({courier} and {other(courier)}) sync during the fault",
        not late,
        f"not synced in time: {', '.join(late)}" if late else "",
    )

    way.clear()
    cleared = time.monotonic()
    recovered = await stand.wait_synced(stuck["id"], options.recover_within_s)
    result.check(
        f"the broken order syncs within {options.recover_within_s:g} s of the fault's end", recovered is not None
    )
    result.check("one parcel at the courier for it", stand.parcels(courier, stuck["code"]) == 1)
    messages = await stand.messages(stuck["id"])
    result.check("nothing dead-lettered", all(getattr(m, "dead_at", None) is None for m in messages))
    restarts = getattr(stand.relay, "restarts", 0)
    result.check("no relay restart needed (deadlines ended every hung call)", restarts == 0, f"{restarts} restarts")
    result.figures.update(
        {
            "calls_to_courier": way.calls,
            "faulty_calls": way.faulty,
            "retries": sum(max(0, m.attempts - 1) for m in messages),
            "time_to_recover_s": None if recovered is None else round(time.monotonic() - cleared, 2),
            "others_synced": len(latencies),
            "others_sync_p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "others_sync_max_s": round(max(latencies), 2) if latencies else None,
            "relay_restarts": restarts,
        }
    )
    return result


async def slow_answer(stand: Stand, courier: str, options: Options) -> Result:
    return await _one_slow_order(stand, courier, options, hang=False)


async def hung_call(stand: Stand, courier: str, options: Options) -> Result:
    return await _one_slow_order(stand, courier, options, hang=True)


SCENARIOS: dict[str, Scenario] = {
    "slow-answer": Scenario("1", "one order's calls answer 1.5 x the timeout late; the rest must flow", slow_answer),
    "hung-call": Scenario("1", "one order's calls never answer; the rest must flow", hung_call),
    "cancel-slow-courier": Scenario(
        "2", "cancels and merges of shipped orders while the courier's cancel never answers", truth.cancel_slow
    ),
    "cancel-answer-lost": Scenario(
        "2", "cancels and merges the courier carries out but answers after the timeout", truth.cancel_answer_lost
    ),
    "cancel-after-pickup": Scenario(
        "2", "cancels and merges of orders the courier picked up without a webhook", truth.cancel_after_pickup
    ),
    "lost-webhooks": Scenario(
        "4", "pickup and delivery webhooks never sent; reconciliation catches up", truth.lost_webhooks, reconcile=True
    ),
    "recipient-limit": Scenario(
        "5",
        "GHN refuses recipient changes past its limit while COD changes go on",
        aspects.recipient_limit,
        couriers=("ghn",),
    ),
}
