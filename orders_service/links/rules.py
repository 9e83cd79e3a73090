"""Pure rules of the edit link: token hashes, when a link opens, what a customer may change and at which price."""

from __future__ import annotations

import datetime
import enum
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from msgspec import UNSET, Struct

from orders_service.domain import operations as ops
from orders_service.domain.errors import DomainError, InvalidField, NotFound, OrderNotAmendable
from orders_service.domain.model import Line, Order, OrderStatus
from orders_service.domain.status import RESTRICTED

TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 256 bits, 43 URL-safe characters
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
MAX_TTL_HOURS = 24 * 30

# A link opens while the parcel is still at the shop; after pickup, changes go through the shop.
EDITABLE = frozenset({OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.READY_TO_SHIP})
# After pickup, or once merged into another order, the link only shows the order: she still needs to know what
# she will pay, where the parcel is and whom to call. A cancelled order's link expires: nothing is left to follow.
READ_ONLY = frozenset(OrderStatus) - EDITABLE - {OrderStatus.CANCELLED}
# What a customer may do: contact, address, the variants and quantities of the lines she already has, and
# spending her own points (the order's customer's: the ledger checks she holds them; before pickup only).
LINK_OPERATIONS = frozenset(
    {"set_recipient", "set_address", "set_quantity", "remove_line", "swap_variant", "redeem_points"}
)
_SIZE_ORDER = {size: rank for rank, size in enumerate(("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"))}


class LinkNotFound(NotFound):
    """Unknown, tampered or revoked: the answer says nothing of any order."""

    def __init__(self) -> None:
        super().__init__("edit link", "given")
        self.detail = "this link does not open any order"


class LinkExpired(DomainError):
    """Past its time, or the order was cancelled."""

    def __init__(self) -> None:
        super().__init__("this link has expired: ask the shop for a new one")


class LinkReadOnly(OrderNotAmendable):
    """A change asked through a link that only shows the order now (after pickup, or merged): a 409."""

    def __init__(self, status: OrderStatus) -> None:
        why = "was merged into another order" if status is OrderStatus.MERGED else "is with the courier"
        super().__init__(f"the order {why}: this link only shows it now; ask the shop to change it")


class LinkState(enum.StrEnum):
    OPEN = "open"
    READ_ONLY = "read_only"
    EXPIRED = "expired"
    REVOKED = "revoked"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    """Whether `token` has the shape we issue; anything else is refused before the database is asked."""
    return bool(_TOKEN_SHAPE.match(token))


def link_state(
    expires_at: datetime.datetime, revoked_at: datetime.datetime | None, status: OrderStatus, now: datetime.datetime
) -> LinkState:
    if revoked_at is not None:
        return LinkState.REVOKED
    if now >= expires_at or status not in EDITABLE | READ_ONLY:
        return LinkState.EXPIRED
    return LinkState.OPEN if status in EDITABLE else LinkState.READ_ONLY


def expiry(now: datetime.datetime, ttl_hours: int) -> datetime.datetime:
    if not 1 <= ttl_hours <= MAX_TTL_HOURS:
        raise InvalidField("ttl_hours", f"give 1 to {MAX_TTL_HOURS} hours")
    return now + datetime.timedelta(hours=ttl_hours)


class Variant(Struct, frozen=True):
    """A size and colour of a product the shop offers, at the shop's price."""

    size: str | None
    color: str | None
    unit_price: int

    @property
    def key(self) -> tuple[str | None, str | None]:
        return self.size, self.color


def _size_rank(variant: Variant) -> tuple[int, str, str]:
    size = variant.size or ""
    return _SIZE_ORDER.get(size.upper(), len(_SIZE_ORDER)), size, variant.color or ""


def offered_variants(line: Line, seen: Iterable[Variant]) -> tuple[Variant, ...]:
    """The variants the page offers for a plain line: its own first (at its own price), then the others.

    `seen` are the shop's variants of the line's SKU, most recent first; the first price seen for a size and
    colour wins. A try-on line offers nothing here: its options are the shop's to set.
    """
    if line.is_tryon or line.unit_price is None:
        return ()
    own = Variant(size=line.size, color=line.color, unit_price=line.unit_price)
    others: dict[tuple[str | None, str | None], Variant] = {}
    for variant in seen:
        if variant.key != own.key and variant.key not in others:
            others[variant.key] = variant
    return (own, *sorted(others.values(), key=_size_rank))


def customer_operations(
    order: Order, operations: Sequence[ops.Operation], offers: Mapping[str, Sequence[Variant]]
) -> list[ops.Operation]:
    """The operations as the link may apply them, or raise.

    Staff-only operations pass through: the domain gate refuses them with its own reason. A customer never
    sets a price: a new size or colour takes the price of the variant the shop offers.
    """
    lines = {line.id: line for line in order.lines}
    checked: list[ops.Operation] = []
    for index, op in enumerate(operations):
        name = ops.op_name(op)
        if name not in LINK_OPERATIONS and name not in RESTRICTED:
            raise OrderNotAmendable(f"{name} is not possible on the customer's link: ask the shop")
        if isinstance(op, ops.SwapVariant):
            op = _priced_swap(op, lines.get(str(op.line_id)), offers, f"operations[{index}]")
        checked.append(op)
    return checked


def _priced_swap(
    op: ops.SwapVariant, line: Line | None, offers: Mapping[str, Sequence[Variant]], field: str
) -> ops.SwapVariant:
    if op.unit_price is not UNSET:
        raise InvalidField(f"{field}.unit_price", "the price is the shop's: choose a size or colour")
    if line is None:
        return op  # the domain names the missing line
    size = line.size if op.size is UNSET else op.size
    color = line.color if op.color is UNSET else op.color
    for variant in offers.get(line.id, ()):
        if variant.key == (size, color):
            # A variant without a size (or colour) clears it: the struct's types cannot say None, the line can.
            chosen: dict[str, Any] = {"size": size, "color": color, "unit_price": variant.unit_price}
            return ops.SwapVariant(line_id=op.line_id, **chosen)
    raise InvalidField(f"{field}.size", f"the shop does not offer {line.name} in {size or '-'} / {color or '-'}")
