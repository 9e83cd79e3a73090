"""Segments as declarative rules over a customer's stats: a pure function from stats to segment names."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

AT_RISK_DAYS = 90
VIP_SPEND = 5_000_000  # the default gold threshold; the service passes the program's top tier


@dataclass(frozen=True)
class Stats:
    """What the rules look at: completed orders and spend net of returns, the last completed order, birthday."""

    delivered_orders: int
    total_spent: int
    last_order_at: datetime.datetime | None
    birthday: datetime.date | None
    vip_spend: int = VIP_SPEND


@dataclass(frozen=True)
class Rfm:
    """Recency, frequency, monetary scores from 1 (low) to 3 (high); 0 recency when she never bought."""

    recency: int
    frequency: int
    monetary: int


def rfm(stats: Stats, now: datetime.datetime) -> Rfm:
    if stats.last_order_at is None or stats.delivered_orders <= 0:
        return Rfm(0, 0, 0)
    days = (now - stats.last_order_at).days
    recency = 3 if days <= 30 else 2 if days <= AT_RISK_DAYS else 1
    frequency = 3 if stats.delivered_orders >= 5 else 2 if stats.delivered_orders >= 2 else 1
    monetary = 3 if stats.total_spent >= stats.vip_spend else 2 if stats.total_spent >= stats.vip_spend // 5 else 1
    return Rfm(recency, frequency, monetary)


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    matches: Callable[[Stats, Rfm, datetime.datetime], bool]


def _bought(s: Stats) -> bool:
    return s.delivered_orders > 0


RULES: tuple[Rule, ...] = (
    Rule("new", "exactly one completed order", lambda s, r, now: s.delivered_orders == 1),
    Rule("regular", "two or more completed orders", lambda s, r, now: s.delivered_orders >= 2),
    Rule(
        "vip",
        "net spend at the top tier's threshold",
        lambda s, r, now: _bought(s) and 0 < s.vip_spend <= s.total_spent,
    ),
    Rule(
        "at_risk",
        f"bought before, but no completed order in the last {AT_RISK_DAYS} days",
        lambda s, r, now: _bought(s) and r.recency == 1,
    ),
    Rule(
        "birthday_this_month",
        "her birthday falls in this month",
        lambda s, r, now: s.birthday is not None and s.birthday.month == now.month,
    ),
    Rule("rfm_champions", "bought recently, often and much (R3 F3 M3)", lambda s, r, now: r == Rfm(3, 3, 3)),
    Rule(
        "rfm_loyal",
        "buys often and not long ago (F>=2, R>=2), not a champion",
        lambda s, r, now: r.frequency >= 2 and r.recency >= 2 and r != Rfm(3, 3, 3),
    ),
    Rule("rfm_promising", "one recent order (R3 F1)", lambda s, r, now: r.recency == 3 and r.frequency == 1),
    Rule(
        "rfm_cant_lose",
        "spent much or often, but not lately (R1, F>=2 or M>=2)",
        lambda s, r, now: r.recency == 1 and (r.frequency >= 2 or r.monetary >= 2),
    ),
    Rule("rfm_hibernating", "one small order long ago (R1 F1 M1)", lambda s, r, now: r == Rfm(1, 1, 1)),
)
NAMES = tuple(rule.name for rule in RULES)


def segments_of(stats: Stats, now: datetime.datetime) -> list[str]:
    """The names of the segments she belongs to, in the order of RULES."""
    scores = rfm(stats, now)
    return [rule.name for rule in RULES if rule.matches(stats, scores, now)]


def rule(name: str) -> Rule | None:
    return next((r for r in RULES if r.name == name), None)
