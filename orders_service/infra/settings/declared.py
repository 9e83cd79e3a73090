"""What a setting is (name, kind, default, meaning, who reads it) and the one reader of the environment.

Every variable the service reads is declared once, in `catalogue` (the service's own) and `partners` (couriers,
message providers, the test suite). `Env` refuses a name that is not declared, so a setting cannot be read
without being documented: docs/configuration.md is generated from these declarations (`orders-service config
docs`), and a test fails when the committed file differs.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

# The processes, as `orders-service` starts them; docs/configuration.md explains each.
API = "api"  # `serve`, with the embedded relay and jobs when ORDERS_RELAY=embedded
WORKER = "worker"  # `worker`: Celery, the relay's handlers at scale
BEAT = "beat"  # `beat`: Celery's one scheduler
SANDBOX = "sandbox-courier"  # `sandbox-courier`: the sandbox courier on its own
CLI = "cli"  # migrate, db upgrade, keys create, users create
TESTS = "tests"  # the test suite (./dev test), not the service
EVERY = (API, WORKER, BEAT, SANDBOX, CLI)
SERVICE = (API, WORKER)  # the processes that run orders' work: requests, and the relay's handlers

PROCESSES = {
    API: "`orders-service serve`: the HTTP API; with `ORDERS_RELAY=embedded` (the default) also the outbox relay "
    "and the periodic jobs, in the same process.",
    WORKER: "`orders-service worker`: a Celery worker running the relay's handlers (`ORDERS_RELAY=celery`).",
    BEAT: "`orders-service beat`: Celery beat, the one scheduler (`ORDERS_RELAY=celery`).",
    SANDBOX: "`orders-service sandbox-courier`: the sandbox courier on its own, shared by several API processes.",
    CLI: "the one-shot commands: `migrate`, `db upgrade`, `keys create`, `users create`.",
    TESTS: "the test suite (`./dev test`), not the service.",
}


class Var(msgspec.Struct, frozen=True):
    """One environment variable. `default` is the value used when it is unset, as it would be written in the
    environment ("" for none); `default_note` replaces it in the docs where the default is worked out at start."""

    name: str
    kind: str  # text, integer, number, choice, list, url, secret, ...: how the value is written
    default: str
    meaning: str  # one sentence a shop's engineer understands
    readers: tuple[str, ...]
    secret: bool = False
    choices: tuple[str, ...] = ()
    default_note: str = ""


class Group(msgspec.Struct, frozen=True):
    title: str
    about: str
    variables: tuple[Var, ...]


class Undeclared(KeyError):
    """Code asked for a variable that no declaration describes: declare it (and regenerate the docs)."""


class Env:
    """The environment seen through the declarations: a value, or the declared default."""

    def __init__(self, environ: Mapping[str, str], declared: Mapping[str, Var]) -> None:
        self.environ, self.declared = environ, declared

    def var(self, name: str) -> Var:
        try:
            return self.declared[name]
        except KeyError:
            raise Undeclared(f"{name} is read but not declared in orders_service.infra.settings") from None

    def get(self, name: str, default: str | None = None) -> str:
        """The value set, else `default` (for a default worked out at start), else the declared one."""
        var = self.var(name)
        return self.environ.get(name, var.default if default is None else default)

    def given(self, name: str) -> str | None:
        """The value set, or None: for settings whose absence means something (a courier without an account)."""
        self.var(name)
        return self.environ.get(name)

    def choice(self, name: str, default: str | None = None) -> str:
        var = self.var(name)
        value = self.get(name, default).strip().lower()
        if value not in var.choices:
            raise ValueError(f"{name} must be one of {', '.join(var.choices)}, not {value!r}")
        return value
