"""Setup data for the load (order bodies, phone numbers) and command-line value parsers."""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from typing import Any

SETUP_CONCURRENCY = 4  # orders are created by at most this many requests at a time
SETUP_ATTEMPTS = 5  # and each is retried on a 5xx or a transport error: setup is not what is measured
_HCMC, _BEN_THANH = 79, 26743


def order_payload(phone: str) -> dict[str, Any]:
    """A valid POST /api/orders body (as tests/integration/api.py builds it), one line of quantity 1."""
    return {
        "customer": {"full_name": "Nguyễn Thị Lan", "phones": [phone]},
        "channel": "website",
        "recipient": {
            "name": "Nguyễn Thị Lan",
            "phones": [phone],
            "address": {"line": "12 Lê Lợi", "ward_code": _BEN_THANH, "province_code": _HCMC},
        },
        "lines": [
            {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 1}
        ],
        "shipping": {"fee": 30000, "payer": "customer"},
    }


def unique_phones(count: int) -> list[str]:
    """Distinct random mobiles 090..098 + 7 digits (phonenumbers rejects some 099 numbers)."""
    phones: set[str] = set()
    while len(phones) < count:
        phones.add("09" + random.choice("012345678") + "".join(random.choices("0123456789", k=7)))
    return sorted(phones)


def bounded(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` within low..high."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}..{high:g}")
        return value

    return parse
