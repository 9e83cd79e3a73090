"""Replace a person's data inside stored JSON and text by placeholders, keeping every number (erasure).

Two passes, because neither alone is enough: by key (an order's changes name `recipient.phones`, a parcel its
`recipient_name`), and by value (a phone or a name quoted inside free text: a staff alert, an event's reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

PLACEHOLDER = "(đã xoá)"

# Keys whose whole value is personal: recipients, addresses, contact points, free notes.
PERSONAL_KEYS = frozenset(
    {
        "recipient.name",
        "recipient.phones",
        "recipient.address",
        "recipient_name",
        "full_name",
        "phones",
        "phone",
        "email",
        "address",
        "address_line",
        "line_text",
        "to",
        "contacts",
        "note",
        "input",
    }
)
# Shorter strings are not matched inside free text: "Lan" would also wipe "Lanh" from a product name.
MIN_MATCH = 5


def placeholder_for(value: Any) -> Any:
    """The placeholder of the same JSON shape as `value`: empty containers stay the shape readers expect."""
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {}
    if value is None or isinstance(value, bool | int | float):
        return value
    return PLACEHOLDER


class Scrubber:
    """Knows her values (names, phones in both forms, emails, ids, address lines) and removes them anywhere."""

    def __init__(self, values: Iterable[str]) -> None:
        forms: set[str] = set()
        for value in values:
            value = (value or "").strip()
            if len(value) < MIN_MATCH:
                continue
            forms.add(value)
            if value.startswith("+84"):
                forms.add("0" + value[3:])  # as people write it: 0912345678
                forms.add(value[1:])
        ordered = sorted(forms, key=len, reverse=True)  # the longest first: a line before the name inside it
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE) if ordered else None

    def text(self, value: str | None) -> str | None:
        if value is None or self._pattern is None:
            return value
        return self._pattern.sub(PLACEHOLDER, value)

    def json(self, value: Any) -> Any:
        """`value` with personal keys replaced whole and her values removed from every other string."""
        if isinstance(value, dict):
            return {
                key: (self._personal(item) if key in PERSONAL_KEYS else self.json(item)) for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _personal(self, value: Any) -> Any:
        # A change record keeps its shape ({"before": .., "after": ..}) so the timeline still reads.
        if isinstance(value, dict) and set(value) <= {"before", "after"}:
            return {key: placeholder_for(item) for key, item in value.items()}
        return placeholder_for(value)
