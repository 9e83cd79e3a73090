"""The sandbox courier's rules, pure: fees, the status machine, what a parcel accepts to change, what was kept."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from msgspec import UNSET

from couriers.sandbox.schemas import ItemIn, KeptLine, ShipmentPatch

PROBLEM_BASE = "https://orders-service.dev/problems/sandbox-courier/"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes get read aloud over the phone

LADDER = ("created", "picked", "in_transit", "out_for_delivery")
CLOSED = frozenset({"delivered", "partially_delivered", "returned", "cancelled"})
# GHN's documented rules (CONTRACT.md, couriers/capabilities.py "sandbox"): contact and COD until out for
# delivery, items only before pickup.
CONTACT_OPEN = frozenset({"created", "picked", "in_transit", "delivery_failed"})
ITEMS_OPEN = frozenset({"created"})


class SandboxError(Exception):
    """A refusal rendered as a problem document: `slug` names the problem type."""

    status = 400
    title = "Bad request"

    def __init__(self, slug: str, detail: str, *, tracking_code: str | None = None) -> None:
        super().__init__(detail)
        self.slug, self.detail, self.tracking_code = slug, detail, tracking_code


class Invalid(SandboxError):
    status, title = 422, "Invalid input"


class NotFound(SandboxError):
    status, title = 404, "Not found"


class Conflict(SandboxError):
    status, title = 409, "Refused by the courier"


class Injected(SandboxError):
    """A fault a test asked for."""

    title = "Injected fault"

    def __init__(self, status: int, detail: str) -> None:
        super().__init__("injected-fault", detail)
        self.status = status


@dataclass(frozen=True)
class FeeTable:
    intra_province: int = 20_000
    near: int = 30_000
    far: int = 40_000
    near_km: float = 300.0
    included_g: int = 1_000
    step_g: int = 500
    step_fee: int = 5_000  # per started step above `included_g`

    def quote(self, origin: int, dest: int, weight_g: int, distance_km: Callable[[int, int], float]) -> tuple[int, str]:
        if origin == dest:
            zone, base = "intra_province", self.intra_province
        elif distance_km(origin, dest) < self.near_km:
            zone, base = "near", self.near
        else:
            zone, base = "far", self.far
        steps = -(-max(0, weight_g - self.included_g) // self.step_g)  # ceiling division
        return base + steps * self.step_fee, zone


# Whole days from pickup to delivery by zone (same province, the neighbouring region within `near_km`, far),
# as couriers publish them for their standard service; data, so a test or a shop's sandbox can change them.
LEAD_DAYS: dict[str, tuple[int, int]] = {"intra_province": (1, 2), "near": (2, 3), "far": (3, 5)}


def new_tracking_code() -> str:
    return "SBX" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(9))


def path_to(current: str, target: str) -> list[str]:
    """The statuses a parcel goes through from `current` to `target`, skipped steps first; Conflict if backwards."""
    if current in LADDER:
        here = LADDER.index(current)
        if target in LADDER and LADDER.index(target) > here:
            return list(LADDER[here + 1 : LADDER.index(target) + 1])
        if target in ("delivered", "delivery_failed"):
            return [*LADDER[here + 1 :], target]
    elif current == "delivery_failed":
        if target == "out_for_delivery":
            return [target]
        if target == "returned":
            return ["returning", "returned"]
    raise Conflict("invalid-transition", f"a {_words(current)} parcel cannot become {_words(target)}")


def check_patch(status: str, patch: ShipmentPatch) -> None:
    """Raise Conflict unless a parcel in `status` accepts every field the patch sets."""
    contact = [name for name in ("recipient_name", "phones", "address", "cod_amount") if _is_set(patch, name)]
    items = _is_set(patch, "items")
    if not contact and not items:
        raise Invalid("empty-patch", "send at least one of recipient_name, phones, address, cod_amount, items")
    if status in CLOSED:
        raise Conflict("not-amendable", f"the parcel is {_words(status)}: nothing can change")
    if contact and status not in CONTACT_OPEN:
        raise Conflict(
            "not-amendable",
            f"cannot change {', '.join(contact)}: the parcel is {_words(status)}, and recipient, phones, "
            "address and COD change only until it is out for delivery",
        )
    if items and status not in ITEMS_OPEN:
        raise Conflict(
            "not-amendable", f"cannot change items: the parcel is {_words(status)}, items change only before pickup"
        )


def check_cancel(status: str) -> bool:
    """True when the parcel is to be cancelled now, False when it already is (a retried cancel)."""
    if status == "cancelled":
        return False
    if status != "created":
        raise Conflict(
            "not-cancellable", f"the parcel is {_words(status)}: only a parcel not yet picked up can be cancelled"
        )
    return True


def settle(
    items: Sequence[ItemIn], cod_amount: int, value: int, kept: Sequence[KeptLine] | None, cod_collected: int | None
) -> tuple[str, list[KeptLine] | None, int]:
    """A delivery: (delivered | partially_delivered, the kept lines merged per variant, the COD collected)."""
    if kept is None:
        return "delivered", None, cod_amount if cod_collected is None else cod_collected
    if not kept:
        raise Invalid("nothing-kept", "kept is empty: a parcel the customer keeps nothing of is delivery_failed")
    sent: dict[tuple[str, str | None, str | None], int] = {}
    prices: dict[tuple[str, str | None, str | None], int] = {}
    for item in items:
        key = (item.sku, item.size, item.color)
        sent[key] = sent.get(key, 0) + item.quantity
        prices.setdefault(key, item.unit_price)
    merged: dict[tuple[str, str | None, str | None], int] = {}
    for line in kept:
        key = (line.sku, line.size, line.color)
        if key not in sent:
            raise Invalid("not-in-parcel", f"the parcel holds no {_variant(key)}")
        merged[key] = merged.get(key, 0) + line.quantity
        if merged[key] > sent[key]:
            raise Invalid("kept-too-many", f"{merged[key]} of {_variant(key)} kept, but {sent[key]} were sent")
    whole = merged == sent
    if cod_collected is None:
        # Without a word from the driver: the COD asked, less the goods' declared value (for a try-on parcel,
        # its dearest options) plus what was kept. The fee stays due; a shop's discount is not the driver's to know.
        kept_value = sum(prices[k] * q for k, q in merged.items())
        cod_collected = max(0, cod_amount - max(0, value - kept_value))
    lines = [KeptLine(sku=k[0], size=k[1], color=k[2], quantity=q) for k, q in merged.items()]
    return ("delivered" if whole else "partially_delivered"), lines, cod_collected


def _is_set(patch: ShipmentPatch, name: str) -> bool:
    return getattr(patch, name) is not UNSET


def _words(status: str) -> str:
    return status.replace("_", " ")


def _variant(key: tuple[str, str | None, str | None]) -> str:
    extra = " ".join(part for part in key[1:] if part)
    return f"{key[0]} {extra}".strip()
