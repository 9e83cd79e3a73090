"""Tiers as configuration, and the pure function that says which tier a customer holds now."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

DOWNGRADE_RULES = ("never", "review", "immediate")
DEFAULT_TIERS = "member:0:0:0,standard:10:0:1,gold:25:5000000:1"
DEFAULT_VND_PER_POINT = 10_000
DEFAULT_VND_PER_REDEEMED_POINT = 1_000
DEFAULT_EXPIRE_DAYS = 365


@dataclass(frozen=True)
class Tier:
    code: str
    percent: int
    min_spend: int  # lifetime net spend, VND
    min_orders: int  # completed orders, net of full returns


@dataclass(frozen=True)
class Program:
    """The shop's loyalty configuration: tiers from lowest to highest rank, the points rate, the downgrade rule."""

    tiers: tuple[Tier, ...] = ()
    vnd_per_point: int = DEFAULT_VND_PER_POINT
    downgrade: str = "never"  # never | review (at the review date) | immediate
    review_days: int = 365
    vnd_per_redeemed_point: int = DEFAULT_VND_PER_REDEEMED_POINT  # what a point takes off an order's COD
    expire_days: int = DEFAULT_EXPIRE_DAYS  # earned points expire this long after they were earned; 0 never

    def __post_init__(self) -> None:
        if not self.tiers:
            object.__setattr__(self, "tiers", parse_tiers(DEFAULT_TIERS))

    def tier(self, code: str | None) -> Tier:
        return next((t for t in self.tiers if t.code == code), self.tiers[0])

    def rank(self, code: str | None) -> int:
        return self.tiers.index(self.tier(code))

    def points_for(self, spend: int) -> int:
        return max(0, spend) // self.vnd_per_point

    def expires_at(self, earned_at: datetime.datetime) -> datetime.datetime | None:
        return earned_at + datetime.timedelta(days=self.expire_days) if self.expire_days else None


def parse_tiers(raw: str, name: str = "ORDERS_TIERS") -> tuple[Tier, ...]:
    """`code:percent:min_spend:min_orders,...` from lowest to highest; the first tier is everyone's."""
    tiers: list[Tier] = []
    for part in raw.split(","):
        fields = part.strip().split(":")
        try:
            code, percent, spend, orders = fields[0].strip().lower(), int(fields[1]), int(fields[2]), int(fields[3])
        except (IndexError, ValueError):
            raise ValueError(f"{name} must be code:percent:min_spend:min_orders,..., not {part.strip()!r}") from None
        if len(fields) != 4 or not code.isidentifier() or not 0 <= percent <= 100 or spend < 0 or orders < 0:
            raise ValueError(f"{name}: {part.strip()!r} needs a word, a percent 0-100 and non-negative thresholds")
        if tiers and (spend < tiers[-1].min_spend or orders < tiers[-1].min_orders or code in {t.code for t in tiers}):
            raise ValueError(f"{name}: tier {code!r} must come after lower tiers and not repeat a code")
        tiers.append(Tier(code, percent, spend, orders))
    if tiers[0].min_spend or tiers[0].min_orders:
        raise ValueError(f"{name}: the first tier {tiers[0].code!r} is everyone's, its thresholds must be 0")
    return tuple(tiers)


def qualifying(program: Program, spend: int, orders: int) -> Tier:
    """The highest tier whose thresholds the metrics reach."""
    return [t for t in program.tiers if spend >= t.min_spend and orders >= t.min_orders][-1]


@dataclass(frozen=True)
class Decision:
    tier: str
    review_at: datetime.datetime | None
    reason: str | None  # None when the tier stays


def evaluate(
    program: Program,
    current: str | None,
    floor: str | None,
    spend: int,
    orders: int,
    now: datetime.datetime,
    review_at: datetime.datetime | None,
) -> Decision:
    """Upgrade at once; downgrade per the program's rule; never below the manual floor."""
    held = program.tier(current)
    earned = qualifying(program, spend, orders)
    review = datetime.timedelta(days=program.review_days)
    if program.rank(earned.code) > program.rank(held.code):
        target, reason, review_at = earned, f"reached {earned.code}", now + review
    elif program.rank(earned.code) < program.rank(held.code) and (
        program.downgrade == "immediate" or (program.downgrade == "review" and (review_at is None or now >= review_at))
    ):
        target, reason, review_at = earned, f"below {held.code} thresholds", now + review
    else:
        target, reason = held, None
        if program.downgrade == "review" and review_at is not None and now >= review_at:
            review_at = now + review  # a review that found her where she is: the next one is a period on
    if floor is not None and program.rank(floor) > program.rank(target.code):
        target, reason = program.tier(floor), f"manual floor {floor}"
    return Decision(target.code, review_at, None if target.code == held.code else reason)


def next_tier(program: Program, tier: str, spend: int) -> tuple[str | None, int | None]:
    """The tier above `tier` and the spend still missing to reach it (0 when only orders are missing)."""
    rank = program.rank(tier)
    if rank + 1 >= len(program.tiers):
        return None, None
    above = program.tiers[rank + 1]
    return above.code, max(0, above.min_spend - spend)


def discount_reason(tier: Tier) -> str | None:
    return f"{tier.code} tier {tier.percent}%" if tier.percent else None
