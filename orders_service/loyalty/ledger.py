"""Ledger rules, pure: what a completion earns, what a return reverses, and what the entries add up to."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orders_service.loyalty.tiers import Program


class Kind(enum.StrEnum):
    EARN = "earn"
    REVERSE = "reverse"
    REDEEM = "redeem"
    EXPIRE = "expire"
    ADJUST = "adjust"


@dataclass(frozen=True)
class Entry:
    kind: Kind
    points: int
    spend: int  # the tier metric, VND, kept apart from spendable points
    orders_delta: int
    order_id: object | None = None
    ref: str = ""  # with (order_id, kind), the entry's unique key: "" for an earn, the return's reference for a reverse
    expires_at: datetime.datetime | None = None  # an earn's points lapse then, what is left of them


@dataclass(frozen=True)
class Totals:
    points: int
    spend: int
    orders: int


def totals(entries: Iterable[Entry]) -> Totals:
    points = spend = orders = 0
    for entry in entries:
        points, spend, orders = points + entry.points, spend + entry.spend, orders + entry.orders_delta
    return Totals(points, spend, orders)


def earn(program: Program, order_id: object, net_spend: int) -> Entry:
    """A completed order: its goods kept, after discount, without shipping; one order counted."""
    spend = max(0, net_spend)
    return Entry(Kind.EARN, program.points_for(spend), spend, 1, order_id)


def reverse(
    order_entries: Iterable[Entry], held: Totals, order_id: object, returned_spend: int | None = None, ref: str = "all"
) -> Entry | None:
    """Undo what an order still counts, whole (`returned_spend` None) or pro rata; None when nothing is left.

    Never takes the customer's balance or spend below zero: what she already redeemed is not clawed back.
    """
    left = totals(order_entries)
    if left.spend <= 0 and left.points <= 0 and left.orders <= 0:
        return None
    whole = returned_spend is None or returned_spend >= left.spend
    spend = left.spend if whole else max(0, returned_spend or 0)
    points = left.points if whole else (left.points * spend // left.spend if left.spend else 0)
    return Entry(
        Kind.REVERSE,
        -min(points, max(0, held.points)),
        -min(spend, max(0, held.spend)),
        -min(left.orders, max(0, held.orders)) if whole else 0,
        order_id,
        ref,
    )


@dataclass(frozen=True)
class Lot:
    """Points that came in together (an earn, a refund of redeemed points) and what is left of them."""

    order_id: object | None
    points: int
    expires_at: datetime.datetime | None
    closed: bool = False  # an expire entry was written for it


def lots(entries: Iterable[Entry]) -> list[Lot]:
    """Entries in ledger order. A positive entry opens a lot; an expiry closes its own lot; a reverse takes its
    own order's lot first; whatever else goes out (redeemed, reversed beyond its lot) spends the oldest lots first.
    """
    open_: list[list[Any]] = []  # [order_id, left, expires_at, closed]
    for entry in entries:
        if entry.points > 0:
            open_.append([entry.order_id, entry.points, entry.expires_at, False])
            continue
        need = -entry.points
        own = [lot for lot in open_ if entry.kind in (Kind.EXPIRE, Kind.REVERSE) and lot[0] == entry.order_id]
        if entry.kind is Kind.EXPIRE:
            for lot in own:
                lot[3] = True
        mine = {id(lot) for lot in own}
        for lot in own + [lot for lot in open_ if id(lot) not in mine]:
            take = min(lot[1], need)
            lot[1], need = lot[1] - take, need - take
    return [Lot(order_id, left, expires_at, closed) for order_id, left, expires_at, closed in open_]


def spendable(entries: Iterable[Entry], now: datetime.datetime) -> int:
    """The balance she may redeem now: lots already past their date count for nothing, written off or not."""
    return sum(lot.points for lot in lots(entries) if lot.expires_at is None or lot.expires_at > now)


def expired(entries: Iterable[Entry], now: datetime.datetime) -> list[Entry]:
    """The expire entries due at `now`: one per lapsed lot not yet closed, for what is left of it (maybe 0)."""
    return [
        Entry(Kind.EXPIRE, -lot.points, 0, 0, lot.order_id)
        for lot in lots(entries)
        if not lot.closed and lot.expires_at is not None and lot.expires_at <= now
    ]


def status(orders: int, spend: int, vip_spend: int) -> str:
    """never_purchased (no completed order), new (one), regular (two or more), vip (spend at the top tier's)."""
    if orders <= 0:
        return "never_purchased"
    if vip_spend and spend >= vip_spend:
        return "vip"
    return "new" if orders == 1 else "regular"


AGE_GROUPS = ((18, "under 18"), (25, "18-24"), (31, "25-30"), (36, "31-35"), (41, "36-40"), (51, "41-50"))


def age_group(birthday: datetime.date | None, today: datetime.date) -> str | None:
    if birthday is None:
        return None
    age = today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))
    return next((label for bound, label in AGE_GROUPS if age < bound), "51+")
