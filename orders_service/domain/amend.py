"""Apply typed operations to a copy of an order, recompute money once, then ask the gate."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from msgspec import UNSET

from orders_service.domain import operations as ops
from orders_service.domain.errors import InvalidField
from orders_service.domain.model import (
    MAX_LINES,
    MAX_QUANTITY,
    Actor,
    Address,
    Line,
    Order,
    OrderStatus,
    Recipient,
    Shipping,
    TryonOption,
    replace,
)
from orders_service.domain.money import compute_totals
from orders_service.domain.outside import Aspect, Outside, UnitsProblem
from orders_service.domain.phones import normalise_phones
from orders_service.domain.status import check_courier_accepts, check_operations

NewId = Callable[[], str]
DEFAULT_VND_PER_REDEEMED_POINT = 1_000


def validate_address(address: Address, field: str, units_problem: UnitsProblem) -> Address:
    problem = units_problem(address.province_code, address.ward_code)
    if problem is not None:
        faulty, why = problem
        raise InvalidField(f"{field}.{faulty}", why)
    if not address.line.strip():
        raise InvalidField(f"{field}.line", "give the house number and street")
    return address


def validate_tryon_options(options: Sequence[TryonOption], quantity: int, field: str) -> tuple[TryonOption, ...]:
    seen: set[tuple[str | None, str | None]] = set()
    for index, option in enumerate(options):
        if option.size is None and option.color is None:
            raise InvalidField(f"{field}.tryon_options[{index}]", "an option needs a size or a colour")
        key = (option.size, option.color)
        if key in seen:
            raise InvalidField(f"{field}.tryon_options[{index}]", "the same size and colour is offered twice")
        seen.add(key)
    if quantity > len(options):
        raise InvalidField(f"{field}.quantity", f"she can keep at most the {len(options)} options sent")
    return tuple(options)


def build_line(line: ops.LineIn, line_id: str, field: str) -> Line:
    if (line.unit_price is None) == (line.tryon_options is None):
        raise InvalidField(f"{field}.unit_price", "give either unit_price (a plain line) or tryon_options")
    options = None
    if line.tryon_options is not None:
        options = validate_tryon_options(line.tryon_options, line.quantity, field)
    return Line(
        id=line_id,
        sku=line.sku,
        name=line.name,
        quantity=line.quantity,
        size=line.size,
        color=line.color,
        unit_price=line.unit_price,
        tryon_options=options,
    )


def _find(order: Order, line_id: UUID, field: str) -> int:
    wanted = str(line_id)
    for index, line in enumerate(order.lines):
        if line.id == wanted:
            return index
    raise InvalidField(f"{field}.line_id", f"the order has no line {wanted}")


def _with_line(order: Order, index: int, line: Line | None) -> Order:
    lines = list(order.lines)
    if line is None:
        del lines[index]
    else:
        lines[index] = line
    return replace(order, lines=tuple(lines))


def _add_line(order: Order, op: ops.AddLine, new_id: NewId, field: str) -> Order:
    line = build_line(op.line, new_id(), f"{field}.line")
    for index, existing in enumerate(order.lines):
        same = (existing.sku, existing.size, existing.color, existing.unit_price) == (
            line.sku,
            line.size,
            line.color,
            line.unit_price,
        )
        if same and not existing.is_tryon and not line.is_tryon:
            if existing.quantity + line.quantity > MAX_QUANTITY:
                raise InvalidField(f"{field}.line.quantity", f"the line would hold more than {MAX_QUANTITY}")
            merged = replace(existing, quantity=existing.quantity + line.quantity)
            return _with_line(order, index, merged)
    if len(order.lines) >= MAX_LINES:
        raise InvalidField(f"{field}.line", f"an order holds at most {MAX_LINES} lines")
    return replace(order, lines=(*order.lines, line))


def _redeem(order: Order, op: ops.RedeemPoints, vnd_per_point: int, field: str) -> Order:
    """Points pay like money (`paid` grows by their value), never beyond what is still to collect."""
    due = compute_totals(order).cod_amount
    if op.points * vnd_per_point > due:
        raise InvalidField(f"{field}.points", f"at most {due // vnd_per_point} points fit the {due} VND still due")
    return replace(order, paid=order.paid + op.points * vnd_per_point)


def _apply_one(
    order: Order, op: ops.Operation, new_id: NewId, field: str, vnd_per_point: int, units_problem: UnitsProblem
) -> Order:
    match op:
        case ops.SetRecipient():
            recipient = order.recipient
            if op.name is not UNSET:
                if not op.name.strip():
                    raise InvalidField(f"{field}.name", "the recipient needs a name")
                recipient = replace(recipient, name=op.name.strip())
            if op.phones is not UNSET:
                recipient = replace(
                    recipient, phones=tuple(normalise_phones(op.phones, f"{field}.phones", vietnam_only=True))
                )
            return replace(order, recipient=recipient)
        case ops.SetAddress():
            address = validate_address(op.address, f"{field}.address", units_problem)
            return replace(order, recipient=replace(order.recipient, address=address))
        case ops.AddLine():
            return _add_line(order, op, new_id, field)
        case ops.RemoveLine():
            index = _find(order, op.line_id, field)
            if len(order.lines) == 1:
                raise InvalidField(f"{field}.line_id", "an order keeps at least one line; cancel it instead")
            return _with_line(order, index, None)
        case ops.SetQuantity():
            index = _find(order, op.line_id, field)
            line = order.lines[index]
            if line.tryon_options is not None:
                validate_tryon_options(line.tryon_options, op.quantity, field)
            return _with_line(order, index, replace(line, quantity=op.quantity))
        case ops.SwapVariant():
            index = _find(order, op.line_id, field)
            line = order.lines[index]
            if line.is_tryon:
                raise InvalidField(f"{field}.line_id", "a try-on line changes with set_tryon_options")
            changes = {k: getattr(op, k) for k in ("size", "color", "unit_price") if getattr(op, k) is not UNSET}
            if not changes:
                raise InvalidField(field, "give size, color or unit_price")
            return _with_line(order, index, replace(line, **changes))
        case ops.SetTryonOptions():
            index = _find(order, op.line_id, field)
            line = order.lines[index]
            if not line.is_tryon:
                raise InvalidField(f"{field}.line_id", "this line is not a try-on line")
            options = validate_tryon_options(op.tryon_options, line.quantity, field)
            return _with_line(order, index, replace(line, tryon_options=options))
        case ops.AddPayment():
            return replace(order, paid=order.paid + op.amount)
        case ops.RedeemPoints():
            return _redeem(order, op, vnd_per_point, field)
        case ops.SetShipping():
            fee = order.shipping.fee if op.fee is UNSET else op.fee
            payer = order.shipping.payer if op.payer is UNSET else op.payer
            return replace(order, shipping=Shipping(fee=fee, payer=payer))
    raise InvalidField(f"{field}.op", "unknown operation")  # unreachable while the union is exhaustive


def changed_aspects(before: Order, after: Order) -> frozenset[Aspect]:
    changed = set()
    if (before.recipient.name, before.recipient.phones) != (after.recipient.name, after.recipient.phones):
        changed.add(Aspect.RECIPIENT)
    if before.recipient.address != after.recipient.address:
        changed.add(Aspect.ADDRESS)
    if before.lines != after.lines:
        changed.add(Aspect.ITEMS)
    if compute_totals(before).cod_amount != compute_totals(after).cod_amount:
        changed.add(Aspect.COD)
    return frozenset(changed)


def amend(
    order: Order,
    operations: Sequence[ops.Operation],
    actor: Actor,
    new_id: NewId,
    courier_status: str | None = None,
    *,
    outside: Outside,
    vnd_per_redeemed_point: int = DEFAULT_VND_PER_REDEEMED_POINT,
) -> Order:
    """Return the amended copy of `order`, or raise; `order` itself is never touched.

    Whether the customer holds the points a `redeem_points` spends is the caller's to check (the ledger).
    """
    if not operations:
        raise InvalidField("operations", "give at least one operation")
    check_operations(order.status, (ops.op_name(op) for op in operations), actor.kind)
    amended = order
    for index, op in enumerate(operations):
        amended = _apply_one(amended, op, new_id, f"operations[{index}]", vnd_per_redeemed_point, outside.units_problem)
    rules = outside.couriers[order.courier]
    check_courier_accepts(order.status, rules, courier_status, changed_aspects(order, amended))
    return amended


def new_order(
    recipient: Recipient,
    lines: Sequence[ops.LineIn],
    shipping: Shipping,
    paid: int,
    new_id: NewId,
    *,
    courier: str,
    note: str | None,
    discount_percent: int,
    discount_reason: str | None,
    outside: Outside,
) -> Order:
    """Validate and build a pending order from its parts (phones already normalised by the caller)."""
    validate_address(recipient.address, "recipient.address", outside.units_problem)
    built = tuple(build_line(line, new_id(), f"lines[{i}]") for i, line in enumerate(lines))
    return Order(
        status=OrderStatus.PENDING,
        recipient=recipient,
        lines=built,
        shipping=shipping,
        paid=paid,
        discount_percent=discount_percent,
        discount_reason=discount_reason,
        courier=courier,
        note=note,
    )
