"""Notification errors the HTTP layer maps through the domain table (a reused campaign key is a 422)."""

from __future__ import annotations

from orders_service.domain.errors import InvalidField


class CampaignKeyReused(InvalidField):
    """A campaign key sent again with another segment, template or message: the IETF Idempotency-Key draft's 422."""

    def __init__(self, key: str, field: str, before: object) -> None:
        super().__init__(
            field, f"campaign {key!r} was sent with {field} {before!r}; a different campaign needs another key"
        )
