"""How the customer's page writes what is not words: VND amounts, phones and times as Vietnamese people write
them. Its words are gettext catalogues (links/words.py, templates/public/, the `public` domain)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from notifications.money import format_vnd

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7 all year: the page's times are the customer's, never UTC


def vnd(amount: int, lang: str) -> str:
    """450000 -> "450.000 ₫" (vi) or "450,000 VND" (en)."""
    return format_vnd(amount) if lang == "vi" else f"{amount:,} VND"


def local_time(moment: datetime.datetime) -> str:
    """A moment as Vietnamese write it, in Vietnam time: "21:30 06/12/2026"."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)  # SQLite gives naive UTC
    return aware.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")
