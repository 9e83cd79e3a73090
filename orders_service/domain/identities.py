"""Emails and marketplace/chat buyer ids that name a customer, normalised so one person matches once."""

from __future__ import annotations

import re
import unicodedata

from orders_service.domain.errors import InvalidField

KINDS = ("email", "shopee", "lazada", "tiktok", "facebook", "zalo")
MAX_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def normalise_identity(kind: str, value: str, field: str) -> str:
    """An email lower-cased and checked for shape; a buyer id stripped of surrounding space."""
    if kind not in KINDS:
        raise InvalidField(f"{field}.kind", f"one of {', '.join(KINDS)}")
    value = unicodedata.normalize("NFC", value).strip()
    if not value or len(value) > MAX_LENGTH or any(unicodedata.category(c).startswith("C") for c in value):
        raise InvalidField(f"{field}.value", f"a {kind} id of 1-{MAX_LENGTH} printable characters")
    if kind == "email":
        value = value.lower()
        if not _EMAIL.match(value):
            raise InvalidField(f"{field}.value", "an email address like name@example.com")
    return value


def normalise_identities(pairs: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(kind, value, field) -> distinct (kind, normalised value), in the order given."""
    return list(dict.fromkeys((kind, normalise_identity(kind, value, field)) for kind, value, field in pairs))
