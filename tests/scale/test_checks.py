"""The scale run's invariant checker can fail: a history that breaks one invariant is reported as that one not held.

A small consistent history (a shipped order whose parcel was once recreated, and two orders merged into one)
passes every check; each case below breaks it in one place, the way a real bug would show in the database or at
the courier, and only the invariant concerned may be reported.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from scale.checks import EventRow, OrderRow, OutboxLeft, Rows, ShipmentRow, evaluate
from scale.workload import Order

A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))
NAME = "Người nhận 1"
PAYMENT = 50_000
TOTAL = 480_000  # a 450,000 VND dress and 30,000 VND shipping paid by the customer


@dataclass
class History:
    model: dict[str, Order]  # what the client was told
    rows: Rows  # what the database holds
    parcels: list[dict[str, Any]]  # what the courier holds

    def set_order(self, oid: uuid.UUID, **changes: Any) -> None:
        self.rows.orders = [r._replace(**changes) if r.id == oid else r for r in self.rows.orders]


def _event(oid: uuid.UUID, seq: int, kind: str, operations: list[dict[str, Any]] | None = None) -> EventRow:
    # The order id as bytes and the operations as text, the way SQLite hands them back; the checker reads both.
    return EventRow(oid.bytes, seq, seq, kind, json.dumps(operations or [], ensure_ascii=False))


def consistent() -> History:
    """A: created, recipient changed (200 at v2), paid, confirmed, shipped; its first parcel was cancelled and
    recreated as CODE-2. B and C: one customer's orders, each paid once, C merged into B."""
    model = {
        str(A): Order(str(A), "0901234567", 5, "shipped", paid=PAYMENT, acked=[{"version": 2, "name": NAME}]),
        str(B): Order(str(B), "0912345678", 3, "pending", paid=2 * PAYMENT),
        str(C): Order(str(C), "0912345678", 3, "merged", paid=PAYMENT, merged=True),
    }
    orders = [
        OrderRow(A, "DHAAAAAAAA", 5, 5, "shipped", PAYMENT, TOTAL, TOTAL - PAYMENT, None),
        OrderRow(B, "DHBBBBBBBB", 3, 3, "pending", 2 * PAYMENT, TOTAL, TOTAL - 2 * PAYMENT, None),
        OrderRow(C, "DHCCCCCCCC", 3, 3, "merged", 0, TOTAL, 0, B),
    ]
    pay = [{"op": "add_payment", "amount": PAYMENT}]
    events = [
        _event(A, 1, "created"),
        _event(A, 2, "amended", [{"op": "set_recipient", "name": NAME}]),
        _event(A, 3, "amended", pay),
        _event(A, 4, "confirmed"),
        _event(A, 5, "shipped"),
    ]
    for oid in (B, C):
        events += [_event(oid, 1, "created"), _event(oid, 2, "amended", pay), _event(oid, 3, "merged")]
    parcels = [
        {"client_code": "DHAAAAAAAA", "status": "cancelled", "cod_amount": TOTAL},
        {"client_code": "DHAAAAAAAA-2", "status": "created", "cod_amount": TOTAL - PAYMENT},
    ]
    return History(
        model, Rows(orders, events, [ShipmentRow(A, "SBX1", "DHAAAAAAAA-2")], OutboxLeft(0, None, None)), parcels
    )


def not_held(history: History) -> dict[str, dict[str, Any]]:
    found = evaluate(history.model, history.rows, history.parcels)
    return {name: result for name, result in found.items() if not result["held"]}


def test_a_consistent_history_holds_every_invariant() -> None:
    history = consistent()
    found = evaluate(history.model, history.rows, history.parcels)
    assert {name: r["held"] for name, r in found.items()} == {
        "no_lost_acknowledged_change": True,
        "no_lost_update": True,
        "no_duplicate_courier_order": True,
        "courier_cod_matches_order": True,
        "money_conserved": True,
        "outbox_drained": True,
    }
    assert found["no_lost_acknowledged_change"]["checked"] == 4  # three 201s and one 200 set_recipient
    assert found["courier_cod_matches_order"]["checked"] == 1


def _rename_acked(h: History) -> None:  # the 200 said v2 sets NAME; the database's v2 sets something else
    h.rows.events = [e._replace(operations=json.dumps([{"op": "set_recipient", "name": "khác"}]))
                     if e.order_id == A.bytes and e.seq == 2 else e for e in h.rows.events]  # fmt: skip


def _drop_created(h: History) -> None:  # a 201 whose order is not in the database
    h.rows.orders = [r for r in h.rows.orders if r.id != B]


def _ack_beyond_final(h: History) -> None:  # a 200 at v6 on an order whose final version is 5
    h.model[str(A)].acked.append({"version": 6, "name": "Người nhận 2"})


def _gap_in_seq(h: History) -> None:
    h.rows.events = [e for e in h.rows.events if not (e.order_id == B.bytes and e.seq == 2)]


def _two_amendments_one_version(h: History) -> None:  # two writers both applied on top of v2
    h.rows.events = [e._replace(version=2) if e.order_id == A.bytes and e.seq == 3 else e for e in h.rows.events]


def _event_beyond_version(h: History) -> None:
    h.set_order(A, version=4)


def _second_live_parcel(h: History) -> None:  # the relay created the parcel twice
    h.parcels.append({"client_code": "DHAAAAAAAA-3", "status": "created", "cod_amount": TOTAL - PAYMENT})


def _parcel_for_merged_source(h: History) -> None:  # the merge did not cancel C's parcel
    h.parcels.append({"client_code": "DHCCCCCCCC", "status": "created", "cod_amount": TOTAL})


def _shipped_without_parcel(h: History) -> None:
    h.parcels = [p for p in h.parcels if p["status"] == "cancelled"]


def _courier_missed_payment(h: History) -> None:  # the courier still collects the amount before the payment
    h.parcels[-1]["cod_amount"] = TOTAL


def _cod_off_by_one(h: History) -> None:
    h.set_order(B, cod_amount=TOTAL - 2 * PAYMENT + 1)


def _unacknowledged_payment(h: History) -> None:  # paid and COD agree, but nobody was told of the third payment
    h.set_order(B, paid=3 * PAYMENT, cod_amount=TOTAL - 3 * PAYMENT)


def _merged_source_still_owes(h: History) -> None:
    h.set_order(C, cod_amount=TOTAL)


def _outbox_left(h: History) -> None:
    h.rows.outbox = OutboxLeft(3, 1, 7)


CASES: list[tuple[Callable[[History], None], str, str]] = [
    (_rename_acked, "no_lost_acknowledged_change", "no event at v2 setting 'Người nhận 1'"),
    (_drop_created, "no_lost_acknowledged_change", "created (201) but not in the database"),
    (_ack_beyond_final, "no_lost_acknowledged_change", "acked v6, final v5"),
    (_gap_in_seq, "no_lost_update", "seq [1, 3] last_seq 3"),
    (_two_amendments_one_version, "no_lost_update", "two amendments share a version"),
    (_event_beyond_version, "no_lost_update", "an event at v5 beyond the order's v4"),
    (_second_live_parcel, "no_duplicate_courier_order", "DHAAAAAAAA: 2 live parcels, expected 1"),
    (_parcel_for_merged_source, "no_duplicate_courier_order", "DHCCCCCCCC: 1 live parcels, expected 0"),
    (_shipped_without_parcel, "no_duplicate_courier_order", "DHAAAAAAAA: 0 live parcels, expected 1"),
    (_courier_missed_payment, "courier_cod_matches_order", "courier COD 480000 != order 430000"),
    (_cod_off_by_one, "money_conserved", "cod 380001 != 380000"),
    (_unacknowledged_payment, "money_conserved", "paid 150000 != acknowledged payments"),
    (_merged_source_still_owes, "money_conserved", "DHCCCCCCCC: cod 480000 != 0"),
    (_outbox_left, "outbox_drained", "3 unprocessed (1 with an error, most attempts 7)"),
]


@pytest.mark.parametrize(("breaks", "invariant", "example"), CASES, ids=[c[0].__name__.strip("_") for c in CASES])
def test_a_broken_history_is_reported(breaks: Callable[[History], None], invariant: str, example: str) -> None:
    history = consistent()
    breaks(history)
    found = not_held(history)
    assert list(found) == [invariant]
    assert found[invariant]["violations"] == 1
    assert example in found[invariant]["examples"][0]
