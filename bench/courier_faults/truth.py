"""Items 2 and 4 of issue 16: the courier is the truth for a parcel it holds.

Item 2: a cancel or merge of a shipped order whose pickup webhook has not arrived waits for the courier (the
order keeps its COD and shows `pending_cancel`), then ends as the courier says: cancelled or merged once it
confirms, in transit with its COD (an event and a staff alert) when it refuses because it picked the parcel up.
Sampled all along: no order has COD 0, and no survivor takes a source's COD, while the courier holds a live parcel.

Item 4: pickup and delivery webhooks are never sent; reconciliation (every `reconcile_s`) reads every parcel not
final and brings each order to the courier's status, forward only (a stale read moves nothing back).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from typing import Any

from courier_faults.base import Options, Result, sampling
from courier_faults.stand import Stand

# The courier's cancel endpoint: the fault holds back every call to it (the URL names it).
CANCEL_PATH = {"ghn": "/v2/switch-status/cancel", "ghtk": "/services/shipment/cancel/"}
# The courier's own status for each rung a lost webhook would have told, and our status for it.
RAW: dict[str, dict[str, str | int]] = {
    "ghn": {"picked": "picked", "out_for_delivery": "delivering", "delivered": "delivered"},
    "ghtk": {"picked": 3, "out_for_delivery": 4, "delivered": 5},
}
LADDER = ["pending", "created", "picked", "in_transit", "out_for_delivery", "delivered"]


def live(stand: Stand, courier: str, tracking: str) -> bool:
    """Whether the courier holds a parcel it would deliver and collect the COD for."""
    if courier == "ghn":
        return stand.ghn.orders[tracking].status != "cancel"
    return stand.ghtk.orders[tracking].status_id != -1


def set_raw(stand: Stand, courier: str, tracking: str, rung: str, *, webhook: bool) -> None:
    """Move the parcel at the courier; `webhook=False`: the webhook is never sent (retries ran out, or none)."""
    raw = RAW[courier][rung]
    if courier == "ghn":
        if webhook:
            stand.ghn.set_status(tracking, str(raw))
        else:
            stand.ghn.orders[tracking].status = str(raw)
    elif webhook:
        stand.ghtk.set_status(tracking, int(raw))
    else:
        stand.ghtk.orders[tracking].status_id = int(raw)


def reads(stand: Stand, courier: str) -> int:
    """Parcel detail reads the courier answered (GHN detail, GHTK's status by label)."""
    if courier == "ghn":
        return sum(1 for path, _, _ in stand.ghn.calls if path == "/v2/shipping-order/detail")
    return sum(1 for call in stand.ghtk.calls if call.path.startswith("/services/shipment/v2/"))


async def shipped(stand: Stand, courier: str, count: int, within_s: float) -> list[dict[str, Any]]:
    """`count` orders shipped at `courier`, each once its parcel exists (as the API shows it then)."""
    orders = []
    for _ in range(count):
        order = await stand.create_order(courier)
        await stand.ship(order)
        orders.append(order)
    for order in orders:
        if await stand.wait_synced(order["id"], within_s) is None:
            raise RuntimeError(f"{order['code']} got no parcel at {courier} within {within_s:g} s")
    return [await stand.order(order["id"]) for order in orders]


@dataclass
class _Wait:
    source: dict[str, Any]  # the shipped order cancelled, or merged into `into`
    into: dict[str, Any] | None
    asked_at: float = 0.0
    settled_s: float | None = None


async def _ask(stand: Stand, wait: _Wait) -> int:
    source, into = wait.source, wait.into
    wait.asked_at = time.monotonic()
    if into is None:
        path = f"/api/orders/{source['id']}/cancel"
        return (await stand.post(path, {"reason": "khách huỷ"}, version=source["version"])).status_code
    body: dict[str, Any] = {"order_ids": [into["id"], source["id"]], "into": into["id"], "reason": "cùng khách"}
    return (await stand.post("/api/orders/merge", body)).status_code


async def _cancels(stand: Stand, courier: str, options: Options, *, fault: str) -> Result:
    """`fault`: "hang" (the cancel endpoint never answers), "late" (it cancels, and its answer comes after the
    timeout), or "picked" (the courier picked every parcel up unseen, and refuses)."""
    refusing = fault == "picked"
    result, way = Result(), stand.faults[courier]
    count = max(2, options.orders)
    sources = await shipped(stand, courier, count, options.recover_within_s)
    waits = []
    for number, source in enumerate(sources):
        into = None
        if number % 2:  # every other one is merged into a newer order of the same customer, partly prepaid
            into = await stand.create_order(courier, customer_id=source["customer_id"], prepaid=100000)
        waits.append(_Wait(source, into))
    tracking = {w.source["id"]: w.source["shipment"]["tracking_code"] for w in waits}
    calls_before, faulty_before = way.calls, way.faulty
    if refusing:
        for code in tracking.values():
            set_raw(stand, courier, code, "picked", webhook=False)
    elif fault == "late":
        way.late(CANCEL_PATH[courier], options.timeout_s * 1.5)
    else:
        way.hang(CANCEL_PATH[courier])
    fault_started = time.monotonic()
    seen: list[str] = []

    async def probe() -> None:
        for wait in waits:
            source, code = wait.source, tracking[wait.source["id"]]
            now = await stand.order(source["id"])  # the order first: the courier cancels before we record it
            holds = live(stand, courier, code)
            if holds and now["cod_amount"] == 0:
                seen.append(f"{source['code']} COD 0 while {courier} holds {code}")
            if now.get("pending_cancel") is not None and now["cod_amount"] != source["cod_amount"]:
                seen.append(f"{source['code']} COD {now['cod_amount']} while its cancel waits")
            if wait.into is not None:
                survivor = await stand.order(wait.into["id"])
                if holds and survivor["cod_amount"] != wait.into["cod_amount"]:
                    seen.append(f"{wait.into['code']} took {source['code']}'s COD while {courier} holds {code}")

    async with sampling(probe) as samples:
        answers = [await _ask(stand, wait) for wait in waits]
        result.check(
            f"{len(waits)} cancels and merges answered 202 (they wait for {courier})",
            answers == [202] * len(waits),
            "" if answers == [202] * len(waits) else f"answers {answers}",
        )
        if not refusing:
            await asyncio.sleep(max(0.0, options.fault_s - (time.monotonic() - fault_started)))
            waiting = [await stand.order(w.source["id"]) for w in waits]
            result.check(
                "while the courier does not confirm, every order keeps its COD and shows pending_cancel",
                all(
                    o.get("pending_cancel") is not None and o["cod_amount"] == w.source["cod_amount"]
                    for o, w in zip(waiting, waits, strict=True)
                ),
            )
            if fault == "late":
                void = [w.source["code"] for w in waits if not live(stand, courier, tracking[w.source["id"]])]
                result.check(
                    f"{courier} cancelled every parcel during the fault (its answers came too late to be taken)",
                    len(void) == len(waits),
                    f"{len(void)} of {len(waits)}",
                )
            way.clear()
        cleared = time.monotonic()
        deadline = cleared + options.recover_within_s
        while time.monotonic() < deadline and any(w.settled_s is None for w in waits):
            for wait in (w for w in waits if w.settled_s is None):
                if (await stand.order(wait.source["id"])).get("pending_cancel") is None:
                    wait.settled_s = time.monotonic() - wait.asked_at
            await asyncio.sleep(0.05)
        recovered = time.monotonic() - cleared if all(w.settled_s is not None for w in waits) else None

    result.check(f"every order settled within {options.recover_within_s:g} s", recovered is not None)
    result.check(
        "no order had COD 0, nor its survivor its COD, while the courier held its live parcel",
        not seen,
        "; ".join(sorted(set(seen))[:3]),
    )
    if refusing:
        await _check_refused(stand, courier, waits, tracking, result)
    else:
        await _check_cancelled(stand, courier, waits, tracking, result)
    retries = 0
    for wait in waits:
        retries += sum(max(0, m.attempts - 1) for m in await stand.messages(wait.source["id"]))
    settled = [w.settled_s for w in waits if w.settled_s is not None]
    result.figures.update(
        {
            "orders": len(waits),
            "calls_to_courier": way.calls - calls_before,
            "faulty_calls": way.faulty - faulty_before,
            "retries": retries,
            "time_to_recover_s": None if recovered is None else round(recovered, 2),
            "settled_p50_s": round(statistics.median(settled), 2) if settled else None,
            "settled_max_s": round(max(settled), 2) if settled else None,
            "samples": samples[0],
        }
    )
    return result


async def _check_cancelled(
    stand: Stand, courier: str, waits: list[_Wait], tracking: dict[str, str], result: Result
) -> None:
    wrong = []
    for wait in waits:
        final = await stand.order(wait.source["id"])
        if live(stand, courier, tracking[final["id"]]) or final["cod_amount"] != 0:
            wrong.append(f"{final['code']}: parcel live or COD {final['cod_amount']}")
        if wait.into is None:
            if final["status"] != "cancelled":
                wrong.append(f"{final['code']} is {final['status']}, not cancelled")
            continue
        survivor = await stand.order(wait.into["id"])
        if (final["status"], final["merged_into"]) != ("merged", wait.into["id"]):
            wrong.append(f"{final['code']} is {final['status']}, not merged into {wait.into['code']}")
        if final["id"] not in survivor["merged_from"] or survivor["cod_amount"] != survivor["total"] - survivor["paid"]:
            wrong.append(f"{survivor['code']} merged_from {survivor['merged_from']}, COD {survivor['cod_amount']}")
    result.check(
        "once the courier confirmed: cancelled (COD 0) or merged (the survivor's COD = total - paid), parcel void",
        not wrong,
        "; ".join(wrong[:3]),
    )


async def _check_refused(
    stand: Stand, courier: str, waits: list[_Wait], tracking: dict[str, str], result: Result
) -> None:
    wrong, unannounced = [], []
    for wait in waits:
        source = wait.source
        final = await stand.order(source["id"])
        state = (final["status"], final["shipment"]["status"], final["cod_amount"], final["merged_into"])
        if state != ("in_transit", "picked", source["cod_amount"], None) or not live(
            stand, courier, tracking[source["id"]]
        ):
            wrong.append(f"{final['code']}: {state}")
        if wait.into is not None:
            survivor = await stand.order(wait.into["id"])
            if (survivor["merged_from"], survivor["cod_amount"]) != ([], wait.into["cod_amount"]):
                wrong.append(f"{survivor['code']} merged_from {survivor['merged_from']}, COD {survivor['cod_amount']}")
        refusals = [e for e in await stand.events(source["id"]) if e["type"] == "cancel_refused"]
        told = len(refusals) == 1 and refusals[0]["actor"] == {"kind": "courier", "id": courier}
        if not told or "cancel_refused" not in await stand.alerts(source["id"]):
            unannounced.append(final["code"])
    result.check(
        "the refused ones stay in transit (picked) with their COD; no survivor took a COD",
        not wrong,
        "; ".join(wrong[:3]),
    )
    result.check(
        "each refusal is one cancel_refused event by the courier and a staff alert",
        not unannounced,
        f"missing for {', '.join(unannounced)}" if unannounced else "",
    )


async def cancel_slow(stand: Stand, courier: str, options: Options) -> Result:
    return await _cancels(stand, courier, options, fault="hang")


async def cancel_answer_lost(stand: Stand, courier: str, options: Options) -> Result:
    return await _cancels(stand, courier, options, fault="late")


async def cancel_after_pickup(stand: Stand, courier: str, options: Options) -> Result:
    return await _cancels(stand, courier, options, fault="picked")


async def lost_webhooks(stand: Stand, courier: str, options: Options) -> Result:
    """Item 4: each parcel moves at the courier (picked, out for delivery or delivered) and no webhook comes."""
    result = Result()
    orders = await shipped(stand, courier, max(3, options.orders), options.recover_within_s)
    rungs = ["picked", "out_for_delivery", "delivered"]
    target = {o["id"]: rungs[n % len(rungs)] for n, o in enumerate(orders)}
    for order in orders:
        code = order["shipment"]["tracking_code"]
        for rung in rungs[: rungs.index(target[order["id"]]) + 1]:
            set_raw(stand, courier, code, rung, webhook=True)
    stand.ghn.pending_webhooks.clear()  # every retry ran out: nothing reaches the service
    stand.ghtk.pending_webhooks.clear()
    reads_before, lost_at = reads(stand, courier), time.monotonic()
    highest: dict[str, int] = {}
    backwards: list[str] = []

    async def probe() -> None:
        for order in orders:
            rung = LADDER.index((await stand.order(order["id"]))["shipment"]["status"])
            if rung < highest.get(order["id"], 0):
                backwards.append(f"{order['code']} went back to {LADDER[rung]}")
            highest[order["id"]] = max(rung, highest.get(order["id"], 0))

    async def converged() -> bool:
        for order in orders:
            now = await stand.order(order["id"])
            if now["shipment"]["status"] != target[order["id"]]:
                return False
        return True

    async with sampling(probe, every_s=0.1):
        took = None
        while time.monotonic() - lost_at < options.recover_within_s:
            if await converged():
                took = time.monotonic() - lost_at
                break
            await asyncio.sleep(0.05)
        read = reads(stand, courier) - reads_before
        moved = await _stale_reads(stand, courier, orders, target, options) if took is not None else None

    result.check(
        f"every order reaches the courier's status (picked, out for delivery, delivered) within "
        f"{options.recover_within_s:g} s",
        took is not None,
    )
    result.check("no order ever moved back a rung, at any sample", not backwards, "; ".join(backwards[:3]))
    result.check(
        "a stale read (an earlier status at the courier) changes nothing",
        moved == [],
        "not tried: the orders never caught up" if moved is None else ", ".join(moved),
    )
    wrong = []
    for order in orders:
        final = await stand.order(order["id"])
        if target[order["id"]] == "delivered" and (final["status"], final["cod_collected"]) != (
            "delivered",
            order["cod_amount"],
        ):
            wrong.append(f"{final['code']}: {final['status']}, collected {final['cod_collected']}")
        if target[order["id"]] != "delivered" and final["status"] != "in_transit":
            wrong.append(f"{final['code']}: {final['status']}")
    result.check(
        "delivered orders are delivered with the COD collected; the others in transit", not wrong, "; ".join(wrong)
    )
    result.figures.update(
        {
            "orders": len(orders),
            "parcels_read": read,
            "reads_per_parcel": round(read / len(orders), 1),
            "time_to_converge_s": None if took is None else round(took, 2),
            "reconcile_s": options.reconcile_s,
        }
    )
    return result


async def _stale_reads(
    stand: Stand, courier: str, orders: list[dict[str, Any]], target: dict[str, str], options: Options
) -> list[str]:
    """The courier's detail says an earlier rung (picked) than the one we hold (out for delivery): the orders that
    moved anyway, after two more reconciliation passes have read them."""
    later = [o for o in orders if target[o["id"]] == "out_for_delivery"]
    before = {o["id"]: (await stand.order(o["id"]))["version"] for o in later}
    for order in later:
        set_raw(stand, courier, order["shipment"]["tracking_code"], "picked", webhook=False)
    enough, until = reads(stand, courier) + 2 * len(later), time.monotonic() + 4 * options.reconcile_s + 5
    while time.monotonic() < until:  # the reads happen on the service's loop, in another thread
        if reads(stand, courier) >= enough:
            break
        await asyncio.sleep(0.1)
    return [o["code"] for o in later if (await stand.order(o["id"]))["version"] != before[o["id"]]]
