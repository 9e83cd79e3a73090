"""Every declared variable, in the order docs/configuration.md shows them, and the reader over them."""

from __future__ import annotations

from collections.abc import Mapping

from orders_service.infra.settings import catalogue, partners
from orders_service.infra.settings.declared import Env, Group, Var

GROUPS: tuple[Group, ...] = (*catalogue.GROUPS, *partners.GROUPS)
DECLARED: dict[str, Var] = {var.name: var for group in GROUPS for var in group.variables}
if len(DECLARED) != sum(len(group.variables) for group in GROUPS):  # a name declared twice: one would hide
    raise RuntimeError("a setting is declared twice in orders_service.infra.settings")


def read(environ: Mapping[str, str]) -> Env:
    return Env(environ, DECLARED)
