"""A schemathesis run against the app in-process, with its conformance checks, counted per check.

Shared by tests/integration/test_fuzz.py (a bounded run in CI) and bench/fuzz_bench.py (a deeper one). It runs
schemathesis' own engine, as `schemathesis run` does (examples, coverage, fuzzing and stateful phases), over the
ASGI app with an admin key, and counts every request the app received and every failed check.

Checks left out, and why:
- `ignored_auth`: it expects every operation that declares security to refuse a request without it; the
  public operations declare none, and for staff ones the auth middleware is tested in tests/integration.
- `use_after_free`, `ensure_resource_availability`: they expect a DELETE to remove what a POST created and
  then answer 404; the service's DELETEs revoke (keys, links) and keep the row, by design (an audit trail).
- `allow_header_conformance`: the `Allow` of an OPTIONS answer is Litestar's own, made per route object, and
  lists only the methods of the first handler registered on a path (e.g. `GET` alone for /api/campaigns).
- `DELETE /api/keys/{key_id}` is not fuzzed: the stateful phase lists the keys and revokes them, the run's own
  key among them, after which every request is a 401; revocation has its tests in tests/integration.

positive_data_acceptance also accepts 410 and 412: for a well-formed request they depend on the stored state
(the link's age, the order's version), as 404 and 409 do, which schemathesis already accepts; and 428, the
answer to an If-Match of `*` (a version is needed), which the header's schema (a string) cannot exclude.
missing_required_header also accepts 428, the status RFC 6585 gives a missing If-Match.
negative_data_rejection also accepts 412: RFC 9110 (13.2.1) evaluates If-Match before the request's content,
so a stale version is answered before a bad body is looked at.

Phones are `format: phone` (any country) or `vn-phone` (Vietnam only) in the schema: which digit strings are
numbers is the numbering plan's to say, so the generator draws real numbers, in the forms customers type.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import re
import time
from typing import Any

import msgspec
import phonenumbers
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.app import create_app
from orders_service.auth.services import Role, create_key
from orders_service.db.engine import create_engine
from orders_service.infra.settings import Settings

SCHEMA_PATH = "/schema/openapi.json"
# The link rate limits would answer most public requests with 429 after the first few hundred: not what is fuzzed.
FUZZ_ENV = {"ORDERS_LINK_TOKEN_LIMIT": "1000000", "ORDERS_LINK_CLIENT_LIMIT": "1000000"}
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "object_level_authorization",
]
EXCLUDED = ["ignored_auth", "use_after_free", "ensure_resource_availability", "allow_header_conformance"]
PHASES = ("examples", "coverage", "fuzzing", "stateful")


# Mobile prefixes (and one Hà Nội landline area) that the numbering plan knows, checked when this module loads.
_PREFIXES = [
    prefix
    for prefix in ("032", "035", "039", "056", "070", "077", "081", "086", "088", "090", "091", "093", "097", "098")
    if phonenumbers.is_valid_number(phonenumbers.parse(f"{prefix}1234567", "VN"))
]
assert len(_PREFIXES) >= 10, _PREFIXES


def _typed(prefix: str, rest: int, form: int) -> str:
    """A number as customers type it: 0901234567, 0901 234 567, +84901234567 or 84-90-123-4567."""
    national = f"{prefix}{rest:07d}"
    return [
        national,
        f"{national[:4]} {national[4:7]} {national[7:]}",
        f"+84{national[1:]}",
        f"84-{national[1:3]}-{national[3:6]}-{national[6:]}",
    ][form]


PHONES = st.builds(_typed, st.sampled_from(_PREFIXES), st.integers(0, 9_999_999), st.integers(0, 3))
schemathesis.openapi.format("phone", PHONES)
schemathesis.openapi.format("vn-phone", PHONES)


@dataclasses.dataclass
class Report:
    """What one run did: requests the app answered, checks run and failed per check, and a few failures each."""

    requests: int = 0
    seconds: float = 0.0
    statuses: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)
    ran: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    failed: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    samples: dict[str, list[str]] = dataclasses.field(default_factory=lambda: collections.defaultdict(list))
    errors: list[str] = dataclasses.field(default_factory=list)
    operations: set[str] = dataclasses.field(default_factory=set)
    # Schema-valid requests that the body decoder or parameter parsing refused: where the schema says less than
    # msgspec and Litestar check. A 422 from a rule between fields or about stored data is not one of them.
    refused_by_decoder: list[str] = dataclasses.field(default_factory=list)
    # Valid data refused, by operation and the field the problem names: what the schema cannot say.
    refusals: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def table(self) -> str:
        lines = [f"{self.requests} requests in {self.seconds:.0f} s; statuses {dict(sorted(self.statuses.items()))}"]
        lines += [f"  {name:30} {self.failed[name]:6} failed of {self.ran[name]}" for name in CHECKS]
        lines += [f"  error: {error}" for error in self.errors]
        return "\n".join(lines)


async def _admin_key(settings: Settings) -> str:
    engine = create_engine(settings, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            return (await create_key(session, "fuzz", Role.ADMIN))[1]
    finally:
        await engine.dispose()


def _counting(app: Any, report: Report) -> Any:
    """The app, counting the requests it answers (not the schema download) and their statuses."""

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == SCHEMA_PATH:
            await app(scope, receive, send)
            return
        report.requests += 1

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                report.statuses[message["status"]] += 1
            await send(message)

        await app(scope, receive, sending)

    return counted


def config(key: str, max_examples: int, seed: int, phases: tuple[str, ...] = PHASES) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "headers": {"Authorization": f"Bearer {key}"},
            "workers": 1,
            "continue-on-failure": True,  # count every failing request, not the first per operation
            "checks": {
                **{name: {"enabled": True} for name in CHECKS},
                **{name: {"enabled": False} for name in EXCLUDED},
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "410", "412", "428", "429"]
                },
                "missing_required_header": {"expected-statuses": ["400", "401", "403", "406", "415", "422", "428"]},
                "negative_data_rejection": {
                    "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "412", "415", "422", "428"]
                },
            },
            "generation": {"max-examples": max_examples, "deterministic": True, "database": "none", "no-shrink": True},
            "phases": {name: {"enabled": name in phases} for name in PHASES},
            "operations": [{"include-method": "DELETE", "include-path": "/api/keys/{key_id}", "enabled": False}],
        }
    )


def run(settings: Settings, max_examples: int, seed: int = 1, phases: tuple[str, ...] = PHASES) -> Report:
    """One schemathesis run over every operation of a fresh app on `settings` (a migrated database)."""
    report = Report()
    key = asyncio.run(_admin_key(settings))
    app = _counting(create_app(settings), report)
    schema = schemathesis.openapi.from_asgi(SCHEMA_PATH, app, config=config(key, max_examples, seed, phases))
    started = time.monotonic()
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
                _count(report, event.recorder)
            elif isinstance(event, events.NonFatalError | events.FatalError):
                report.errors.append(repr(getattr(event, "value", None) or getattr(event, "exception", None)))
    finally:
        from schemathesis.python import asgi

        asgi.shutdown_lifespans()
    report.seconds = time.monotonic() - started
    return report


DECODER_MESSAGES = ("Expected ", "Object contains unknown field", "Object missing required field", "Invalid ")


def _refused_by_decoder(status: int | None, body: str) -> bool:
    if status == 400:
        return True
    try:
        errors = msgspec.json.decode(body).get("errors") or []
    except (msgspec.DecodeError, AttributeError):
        return False
    messages = [str(error.get("message", "")) for error in errors]
    return any(m.startswith(DECODER_MESSAGES) and not _integral_float(m) for m in messages)


def _named_field(body: str) -> str:
    try:
        errors = msgspec.json.decode(body).get("errors") or []
    except (msgspec.DecodeError, AttributeError):
        return "?"
    return re.sub(r"\[\d+\]", "[]", str(errors[0].get("field"))) if errors else "-"


def _integral_float(message: str) -> bool:
    """JSON Schema counts 1.0 as an integer; the service refuses a float where money or a count is meant
    (orders_service.infra.strict_body), by design, and no schema keyword can say so."""
    return message.startswith("Expected `int") and message.endswith("got `float`")


def _count(report: Report, recorder: Any) -> None:
    report.operations.add(recorder.label)
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            report.ran[node.name] += 1
            if node.status != Status.FAILURE:
                continue
            report.failed[node.name] += 1
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction else None
            status, body = (response.status_code, response.text) if response is not None else (None, "")
            message = node.failure_info.failure.message if node.failure_info else ""
            sample = f"{recorder.label} -> {status}: {' '.join(message.split())[:300]} | {body[:300]}"
            if node.name == "positive_data_acceptance":
                report.refusals[f"{recorder.label} {status} {_named_field(body)}"] += 1
                if _refused_by_decoder(status, body):
                    report.refused_by_decoder.append(sample)
            if len(report.samples[node.name]) < 400:
                report.samples[node.name].append(sample)
