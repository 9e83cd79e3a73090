"""Item 5 of issue 16: one refused aspect does not hold back the others.

GHN takes at most two recipient changes per order (its FAQ; the fake's default). Each round changes the
recipient and, right after, the COD (a payment); from the third round on GHN refuses the recipient. After each
round's sync the COD GHN holds must equal the order's, and what GHN refused is shown per aspect, with its message.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from courier_faults.base import Options, Result
from courier_faults.stand import Stand
from courier_faults.truth import shipped

LIMIT = 2  # FakeGhn(recipient_changes=2), the stand's
PAYMENT = 10_000
UPDATE, UPDATE_COD = "/v2/shipping-order/update", "/v2/shipping-order/updateCOD"


async def _amend(stand: Stand, order: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    response = await stand.post(f"/api/orders/{order['id']}/amendments", {"operations": [operation]}, order["version"])
    response.raise_for_status()
    changed: dict[str, Any] = response.json()
    return changed


async def _round_done(stand: Stand, order_id: str, within_s: float) -> dict[str, Any] | None:
    """The order once its shipment caught up with its COD and settled (synced, or refused per aspect)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        now = await stand.order(order_id)
        shipment = now["shipment"]
        if shipment["cod_amount"] == now["cod_amount"] and (
            (shipment["sync_state"] == "synced" and shipment["synced_version"] == now["version"])
            or (shipment["sync_state"] == "sync_failed" and shipment.get("refused"))
        ):
            return now
        await asyncio.sleep(0.05)
    return None


async def recipient_limit(stand: Stand, courier: str, options: Options) -> Result:
    result = Result()
    (order,) = await shipped(stand, courier, 1, options.recover_within_s)
    parcel = stand.ghn.orders[order["shipment"]["tracking_code"]]
    calls_before = len(stand.ghn.calls)
    rounds = max(LIMIT + 1, options.orders)
    took: list[float] = []
    cod_wrong, shown_wrong, name_wrong = [], [], []
    refusals = 0
    accepted_name = order["recipient"]["name"]
    current = order
    for number in range(1, rounds + 1):
        name = f"Người nhận {number}"
        started = time.monotonic()
        current = await _amend(stand, current, {"op": "set_recipient", "name": name})
        current = await _amend(stand, current, {"op": "add_payment", "amount": PAYMENT})
        done = await _round_done(stand, order["id"], options.recover_within_s)
        if done is None:
            now = await stand.order(order["id"])
            result.check(
                f"round {number} settles within {options.recover_within_s:g} s", False, f"shipment {now['shipment']}"
            )
            cod_wrong.append(f"round {number}: GHN {parcel.fields['cod_amount']}, order {now['cod_amount']}")
            break
        took.append(time.monotonic() - started)
        current = done
        if parcel.fields["cod_amount"] != done["cod_amount"]:
            cod_wrong.append(f"round {number}: GHN {parcel.fields['cod_amount']}, order {done['cod_amount']}")
        refused = done["shipment"].get("refused") or {}
        refusals += "recipient" in refused
        if number <= LIMIT:
            accepted_name = name
            if refused:
                shown_wrong.append(f"round {number}: refused {refused}")
        elif list(refused) != ["recipient"] or "tối đa" not in refused["recipient"]:
            shown_wrong.append(f"round {number}: refused {refused}")
        if parcel.fields["to_name"] != accepted_name:
            name_wrong.append(f"round {number}: GHN has {parcel.fields['to_name']!r}")

    result.check(
        "after each round's sync the COD GHN holds equals the order's", not cod_wrong, "; ".join(cod_wrong[:3])
    )
    result.check(
        f"rounds past GHN's {LIMIT} recipient changes show the recipient refused (GHN's message), nothing else",
        not shown_wrong,
        "; ".join(shown_wrong[:3]),
    )
    result.check("GHN keeps the last recipient it accepted", not name_wrong, "; ".join(name_wrong[:3]))
    paths = [path for path, _, _ in stand.ghn.calls[calls_before:]]
    messages = await stand.messages(order["id"])
    result.figures.update(
        {
            "rounds": len(took),
            "calls_to_courier": len(paths),
            "update_calls": paths.count(UPDATE),
            "cod_calls": paths.count(UPDATE_COD),
            "rounds_refused": refusals,
            "retries": sum(max(0, m.attempts - 1) for m in messages),
            "round_p50_s": round(statistics.median(took), 2) if took else None,
            "round_max_s": round(max(took), 2) if took else None,
        }
    )
    return result
