"""Money as Vietnamese customers read it: dots between thousands, then the đồng sign (350.000 ₫)."""

from __future__ import annotations


def format_vnd(amount: int) -> str:
    """`350000` -> `350.000 ₫`; negative amounts keep their sign (a refund shown as -50.000 ₫)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,} ₫".replace(",", ".")
