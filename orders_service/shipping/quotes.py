"""Quotes from every configured courier at once, within one time bound, and the shop's rule that picks one.

A courier call must never hold an order or SQLite's writer: quotes are asked before any write begins, and a
courier that fails or has not answered when the bound runs out is listed unavailable with its reason rather
than holding the others back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import msgspec

from couriers.base import Courier, CourierError, Parcel, Quote
from orders_service.domain.errors import InvalidField, OrderNotAmendable
from orders_service.domain.model import Order
from orders_service.shipping.plan import desired_parcel
from orders_service.shipping.registry import CourierRegistry

log = logging.getLogger(__name__)
RULES = ("cheapest", "fastest")  # besides a courier's name: that courier, always


class DeliveryDays(msgspec.Struct, frozen=True):
    min_days: int
    max_days: int


class QuoteOut(msgspec.Struct, frozen=True):
    """One courier's answer: `available: false` with its `reason` when it failed or did not answer in time."""

    courier: str
    service: str | None
    fee: int | None  # VND the courier charges the shop
    expected_delivery: DeliveryDays | None
    available: bool
    reason: str | None = None


def quote_parcel(order: Order, code: str, weight_g: int, dims_cm: tuple[int, int, int] | None) -> Parcel:
    """The parcel quotes are asked for: the one the courier order would carry (weight, COD, address); its weight
    and size measured from the catalogue (orders.mapping.parcel_weight, parcel_dimensions)."""
    return desired_parcel(order, code, 1, weight_g=weight_g, dims_cm=dims_cm)


async def quote_all(
    couriers: CourierRegistry, origin_province: int, parcel: Parcel, timeout_s: float, names: Sequence[str] = ()
) -> list[QuoteOut]:
    """Every configured courier (or `names`) in parallel, cheapest first, the unavailable ones last."""
    adapters = [couriers.get(name) for name in names] if names else [couriers.get(n) for n in couriers.names()]
    tasks = {asyncio.ensure_future(_ask(courier, origin_province, parcel)): courier.name for courier in adapters}
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    answers = [task.result() for task in done]
    answers += [_unavailable(tasks[task], f"no answer within {timeout_s:g} s") for task in pending]
    return sorted(answers, key=_order)


async def _ask(courier: Courier, origin_province: int, parcel: Parcel) -> QuoteOut:
    try:
        quote = await courier.quote(origin_province, parcel)
    except CourierError as error:
        return _unavailable(courier.name, error.message)
    except Exception as error:  # an adapter's bug must cost its own line, not the whole list
        log.exception("%s quote failed", courier.name)
        return _unavailable(courier.name, f"quote failed: {type(error).__name__}")
    return _available(quote)


def _available(quote: Quote) -> QuoteOut:
    days = quote.expected_delivery
    expected = None if days is None else DeliveryDays(min_days=days.min_days, max_days=days.max_days)
    return QuoteOut(quote.courier, quote.service, quote.fee, expected, available=True)


def _unavailable(courier: str, reason: str) -> QuoteOut:
    return QuoteOut(courier, None, None, None, available=False, reason=reason[:500])


def _days(quote: QuoteOut) -> tuple[float, float]:
    days = quote.expected_delivery
    return (float("inf"), float("inf")) if days is None else (days.max_days, days.min_days)


def _order(quote: QuoteOut) -> tuple[bool, int, tuple[float, float], str]:
    return (not quote.available, quote.fee or 0, _days(quote), quote.courier)


def pick(quotes: Sequence[QuoteOut], rule: str) -> QuoteOut:
    """The quote the rule chooses among the available ones; OrderNotAmendable when none is available.

    `cheapest`: the lowest fee (then the sooner delivery); `fastest`: the soonest latest day (a courier that
    predicts none comes last), then the fee; a courier's name: its quote.
    """
    available = [quote for quote in quotes if quote.available]
    if rule not in RULES:
        available = [quote for quote in available if quote.courier == rule]
    if not available:
        reasons = "; ".join(f"{q.courier}: {q.reason}" for q in quotes if not q.available) or "no courier quoted"
        raise OrderNotAmendable(f"no courier can take the parcel by rule {rule!r} ({reasons})")
    if rule == "fastest":
        return min(available, key=lambda quote: (_days(quote), quote.fee or 0, quote.courier))
    return min(available, key=_order)


def check_service(quotes: Sequence[QuoteOut], courier: str, service: str) -> QuoteOut:
    """The courier's quote for `service`; a service the courier did not offer is a 422 naming the field."""
    mine = [quote for quote in quotes if quote.courier == courier]
    for quote in mine:
        if quote.available and quote.service == service:
            return quote
    if mine and not mine[0].available:
        raise OrderNotAmendable(f"courier {courier} could not confirm service {service!r}: {mine[0].reason}")
    offered = ", ".join(sorted({q.service for q in mine if q.service})) or "none"
    message = f"courier {courier} offers no service {service!r} for this parcel (offered: {offered})"
    raise InvalidField("service", message)
