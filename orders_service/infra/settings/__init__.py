"""The one place settings are declared and read: each environment variable's name, kind, default, meaning and
the processes that read it (`catalogue`, `partners`), the `Settings` a process reads from them (`model`), and
docs/configuration.md generated from the same declarations (`docs`; `orders-service config docs`)."""

from orders_service.infra.settings.declared import Group, Undeclared, Var
from orders_service.infra.settings.model import (
    Settings,
    check_timing,
    listen_at,
    normalise_database_url,
    secret_key,
)
from orders_service.infra.settings.registry import DECLARED, GROUPS

__all__ = [
    "DECLARED",
    "GROUPS",
    "Group",
    "Settings",
    "Undeclared",
    "Var",
    "check_timing",
    "listen_at",
    "normalise_database_url",
    "secret_key",
]
