"""API key errors, mapped to HTTP with the domain's in orders_service.infra.problems."""

from __future__ import annotations

from orders_service.domain.errors import DomainError


class LastAdminKey(DomainError):
    """Revoking this key would leave no active admin key: nobody could manage keys over the API any more."""
