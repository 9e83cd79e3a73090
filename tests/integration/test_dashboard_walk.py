"""A walk through every dashboard page, as an admin and as staff, in Vietnamese and in English, with bad input.

The routes come from the app itself (every route under /dashboard), so a new page is walked without touching this
file; a page whose path names an id this walk cannot fill fails until the seed gives it one. Each GET is opened;
each POST is sent bodies a person could send: empty, too long, the wrong type, unknown ids, hostile strings (markup,
format placeholders, SQL, control and full-width characters), each field of the page's own form spoiled in turn.
Nothing may answer 5xx, and what a person reads must never hold a field path (`operations[0]`), a Python name or
traceback, raw JSON, an English message on a Vietnamese page, or a Vietnamese text on an English page where the
catalogue has its English.

The seed: an order split in two, two orders merged, one delivered and on a COD statement (a mismatch and an unknown
parcel), one waiting for its return to be reviewed, one whose courier refused a change; their customer.
"""

from __future__ import annotations

import datetime
import html
import itertools
import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from orders_service.dashboard.messages import po_path, read
from orders_service.db.engine import create_engine
from orders_service.db.models import OutboxMessage
from orders_service.infra.settings import Settings
from tests.integration.api import Api, Shipping
from tests.integration.conftest import DATABASES, engine_settings
from tests.integration.dashboard import Dashboard, put_in_state, signed_in
from tests.integration.test_cod_statements import delivered_at, post_json

pytestmark = pytest.mark.anyio

LANGUAGES = ("vi", "en")
ROLES = ("admin", "staff")
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
LONG = "9" * 5000
HOSTILE = [
    "<script>alert(1)</script>",
    "%(x)s %s {0} %%",
    "' OR 1=1; --",
    "Ｌａｎ　０９１２\u202e",
    "a\x00b",
    "😀" * 3,
]
WRONG_TYPE = "-1.5e999"
LAST = {"/dashboard/logout"}  # signs the walker out: sent after everything else

# What a person must never read.
FIELD_PATH = re.compile(r"\b\w+\[\d+\]")
DOTTED_PATH = re.compile(r"\b[a-z]+\.[a-z_]+\b")
PYTHON_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[A-Z]\w+(Error|Exception)\b|Traceback|\bNone\b")
ENGLISH = re.compile(
    r"\b(the|is|are|must|expected|only|already|cannot|invalid|unknown|required|missing|should|does not|"
    r"sign in first|give|choose|not found|no such|error)\b",
    re.IGNORECASE,
)


@pytest.fixture(params=DATABASES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from engine_settings(request, tmp_path)


# --- what a person reads -------------------------------------------------------------------------------------


def visible(text: str) -> str:
    """The page's text as a person reads it: no tags, attributes, scripts, styles or what she typed back."""
    text = re.sub(r"<(script|style|textarea)\b.*?</\1>", " ", text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def said(text: str) -> list[str]:
    """The page's messages: alerts, errors and notices."""
    found = re.findall(
        r'<(\w+)[^>]*(?:role="alert"|class="[^"]*\b(?:error|notice)\b[^"]*")[^>]*>(.*?)</\1>', text, re.S
    )
    return [visible(inner) for _, inner in found]


def typed_by_the_walk(text: str) -> str:
    """The page's text without the strings the walk typed (shown back to her as she typed them)."""
    for value in [*HOSTILE, LONG, WRONG_TYPE]:
        text = text.replace(value, " ")
    return text


def vietnamese_with_english() -> list[str]:
    """The catalogue's Vietnamese phrases that have another English: on an English page, none may show (unless
    the English says it too, as the "(đã xoá)" that erased data reads in every language)."""
    phrases = set()
    for message in read(po_path("en"), "en"):
        if not message.id or not isinstance(message.id, str) or message.string == message.id:
            continue
        for part in re.split(r"%\(\w+\)s|%%|[:()]", message.id):
            part = part.strip(' .,;·—→←/"')
            if len(part.split()) >= 2 and re.search(r"[^\x00-\x7f]", part) and part not in str(message.string):
                phrases.add(part)
    return sorted(phrases, key=len, reverse=True)


def problems_on(page: httpx.Response, language: str, english_ids: list[str]) -> list[str]:
    """What is wrong with the page a person reads (nothing, if it is fine)."""
    found = []
    if page.status_code >= 500:
        return [f"{page.status_code}: {page.text[:300]}"]
    if page.is_redirect:
        return []
    kind = page.headers.get("content-type", "")
    if "attachment" in page.headers.get("content-disposition", ""):
        return []  # her data as a file she asked to download
    if not kind.startswith("text/html"):
        return [f"not a page but {kind}: {page.text[:200]}"]
    text = typed_by_the_walk(visible(page.text))
    messages = [typed_by_the_walk(m) for m in said(page.text)]
    if text.startswith("{") or '{"' in text or text.startswith("["):
        found.append(f"raw JSON: {text[:200]}")
    for pattern in (FIELD_PATH, PYTHON_NAME):
        found += [f"internal name {m.group(0)!r} in: {text[:300]}" for m in pattern.finditer(text)]
    for message in messages:
        found += [f"field path {m.group(0)!r} in: {message}" for m in DOTTED_PATH.finditer(message)]
    if language == "vi":
        found += [f"English {m.group(0)!r} on a Vietnamese page: {text[:400]}" for m in ENGLISH.finditer(text)]
    else:
        found += [f"Vietnamese {p!r} on an English page" for p in english_ids if p in text]
    if "<html" in page.text and f'<html lang="{language}">' not in page.text:
        found.append("the page is not in the language asked")
    return found


# --- the forms on a page -------------------------------------------------------------------------------------


class Forms(HTMLParser):
    """Every form of a page: (method, action) -> its fields with the values the page gives them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("method", "get").lower(), a.get("action", ""), {}))
            return
        if not self.forms:
            return
        fields = self.forms[-1][2]
        name = a.get("name")
        if tag == "input" and name:
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                fields.setdefault(name, "")  # not ticked: sent empty, then spoiled like any other
                return
            fields[name] = a.get("value", "")

        elif tag == "select" and name:
            self.select = name
            fields.setdefault(name, "")
        elif tag == "option" and self.select is not None:
            if "selected" in a or not fields.get(self.select):
                fields[self.select] = a.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea is not None and self.forms:
            self.forms[-1][2][self.textarea] += data


def forms_of(page: httpx.Response) -> list[tuple[str, str, dict[str, str]]]:
    if not page.headers.get("content-type", "").startswith("text/html"):
        return []
    parser = Forms()
    parser.feed(page.text)
    return [(m, a.split("?")[0], {k: v for k, v in f.items() if k != "_csrf_token"}) for m, a, f in parser.forms]


def bad_bodies(fields: dict[str, str]) -> list[dict[str, str]]:
    """Bodies a person could send: every field wrong at once in five ways, then each field of the page's own values
    spoiled in turn (too long, hostile, the wrong type or empty, by turns)."""
    names = list(fields) or ["x"]
    hostile = itertools.cycle(HOSTILE)
    bodies = [
        {},
        dict.fromkeys(names, LONG),
        dict.fromkeys(names, WRONG_TYPE),
        {n: str(uuid.uuid4()) for n in names},
        {n: next(hostile) for n in names},
    ]
    # A form that previews (its `intent`) keeps its version, so that the spoiled value reaches the service; any
    # other form gets a version long gone, so that nothing is committed.
    base = dict(fields)
    if "version" in base and "intent" not in base:
        base["version"] = "999999"
    spoilt = itertools.cycle([LONG, "hostile", WRONG_TYPE, ""])
    for name in fields:
        value = next(spoilt)
        bodies.append({**base, name: next(hostile) if value == "hostile" else value})
    return bodies


# --- the seed --------------------------------------------------------------------------------------------------


async def seed(settings: Settings, api: Api, admin: Dashboard) -> dict[str, list[str]]:
    """Real ids for every path parameter: orders in many states, their customer, a COD statement."""
    dress = {"sku": "DRESS-01", "name": "Đầm hoa", "size": "M", "color": "red", "unit_price": 450000, "quantity": 2}
    main = await api.create_order(lines=[dress])
    line = main["lines"][0]["id"]
    split = await admin.post(
        f"/dashboard/orders/{main['id']}/split", {"version": "1", f"take_{line}": "1", "intent": "commit"}
    )
    assert split.status_code == 303, split.text
    shown = await admin.get(f"/dashboard/orders/{main['id']}")
    part = re.findall(r'<a href="/dashboard/orders/([0-9a-f-]+)" data-rel="part">', shown.text)[0]

    customer = main["customer_id"]
    kept, gone = [await api.create_order(customer_id=customer) for _ in range(2)]
    merged = await admin.post(
        f"/dashboard/orders/{kept['id']}/merge",
        {"version": "1", "order_ids": gone["id"], f"v_{gone['id']}": "1", "intent": "commit"},
    )
    assert merged.status_code == 303, merged.text
    delivered = await api.create_order(customer_id=customer)
    at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)
    await delivered_at(settings, delivered, "ghn", "GHNWALK1", at)
    statement = await post_json(api, "ghn", ("GHNWALK1", delivered["cod_amount"] - 5000, 22000), ("GHNNOBODY", 1, 0))
    assert statement.status_code == 201, statement.text
    review = await api.create_order(customer_id=customer)
    await put_in_state(settings, review)
    refused = await api.create_order(customer_id=customer)
    await put_in_state(settings, refused, sync_state="sync_failed", last_error="SĐT người nhận sai định dạng")
    returned = await api.create_order(customer_id=customer)
    shipping = Shipping(api)
    shipped = await shipping.ship(returned)
    await shipping.courier_event(shipped["shipment"]["tracking_code"], "delivered")
    line = {"sku": "DRESS-01", "size": "M", "color": "red", "quantity": 1}
    asked = await api.request(
        "POST", f"/api/orders/{returned['id']}/return-requests", json={"items": [line], "reason": "Chật quá"}
    )
    assert asked.status_code == 201, asked.text
    orders = [main["id"], part, gone["id"], delivered["id"], review["id"], refused["id"], returned["id"]]
    return {
        "request_id": [asked.json()["id"]],
        "order_id": orders,
        "customer_id": [customer],
        "statement_id": [statement.json()["id"]],
        "message_id": [await dead_letter(settings)],
    }


async def dead_letter(settings: Settings) -> str:
    """A message the relay gave up on, with the kind of error it keeps (a Python exception's name and text)."""
    engine = create_engine(settings, poolclass=NullPool)
    now = datetime.datetime.now(datetime.UTC)
    error = "HTTPStatusError: Server error '500 Internal Server Error' for url 'https://zalo.example/send'"
    message = OutboxMessage(topic="notifications.send", key=str(uuid.uuid4()), payload={}, attempts=8, last_error=error)
    message.processed_at = message.dead_at = now
    try:
        async with AsyncSession(engine) as session, session.begin():
            session.add(message)
            await session.flush()
            return str(message.id)
    finally:
        await engine.dispose()


def dashboard_routes(app: Litestar) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if route.path == "/dashboard" or route.path.startswith("/dashboard/"):
            methods = set(getattr(route, "methods", ())) - {"OPTIONS", "HEAD"}
            assert methods <= {"GET", "POST"}, f"walk {route.path} {methods} too"
            found += [(method, route.path) for method in sorted(methods)]
    return sorted(found, key=lambda r: (r[1] in LAST, r[0] == "POST", r[1]))


def filled(path: str, ids: dict[str, list[str]]) -> list[str]:
    """The path once per seeded id (and once with an id nobody has); a parameter without a seed fails."""
    names = PARAM.findall(path)
    if not names:
        return [path]
    for name in names:
        assert name in ids, f"{path}: the walk has no {name} to fill in; seed one in test_dashboard_walk.seed"
    choices = [[*ids[name], str(uuid.uuid4())] for name in names]
    paths = []
    for values in itertools.product(*choices):
        given = dict(zip(names, values, strict=True))
        paths.append(PARAM.sub(lambda m, given=given: given[m.group(1)], path))

    return paths


# --- the walk ----------------------------------------------------------------------------------------------------


async def test_every_dashboard_page_reads_as_words_in_her_language_whatever_she_sends(
    settings: Settings, app: Litestar, client: httpx.AsyncClient, api: Api
) -> None:
    browsers = {role: await signed_in(settings, client, f"walk{role}", role) for role in ROLES}
    ids = await seed(settings, api, browsers["admin"])
    english_ids = vietnamese_with_english()
    combos = itertools.cycle(itertools.product(ROLES, LANGUAGES))
    wrong: list[str] = []
    forms: dict[str, dict[str, str]] = {}
    visited = 0

    async def visit(role: str, language: str, method: str, path: str, body: dict[str, str] | None = None) -> Any:
        nonlocal visited
        visited += 1
        browser = browsers[role]
        if method == "GET":
            page = await browser.get(path, params={**(body or {}), "lang": language})
            for form_method, action, fields in forms_of(page):
                if form_method == "post" and action not in forms:
                    forms[action] = fields
            gets = [f for m, a, f in forms_of(page) if m == "get" and a == path.split("?")[0]]
            forms.setdefault(f"GET {path}", {k: v for f in gets for k, v in f.items()})
        else:
            page = await browser.post(f"{path}?lang={language}", body or {})
        shown = f"{body!r:.200}".replace(": ", "=")
        wrong.extend(
            f"{role} {language} {method} {path} {shown}: {p}" for p in problems_on(page, language, english_ids)
        )
        return page

    routes = dashboard_routes(app)
    # Every page as it is: with the first seeded id in both languages and for both roles, with the other ids (and
    # one nobody has) by turns; their forms are read on the way.
    for method, route in routes:
        if method == "GET":
            for index, path in enumerate(filled(route, ids)):
                for role, language in itertools.product(ROLES, LANGUAGES) if index == 0 else [next(combos)]:
                    await visit(role, language, "GET", path)
    # Then bad input, each body sent by the next role in the next language: a GET's query (the first id's page),
    # and every POST's form. A page staff may not use (403 to the first body) gets the others as admin.
    for method, route in routes:
        for index, path in enumerate(filled(route, ids)):
            if method == "GET" and index == 0:
                query = {**forms.get(f"GET {path}", {}), "page": "", "next": "", "province_code": ""}
                bodies = bad_bodies(query)[:5]
            elif method == "POST":
                bodies = bad_bodies(forms.get(path, {}))
            else:
                continue
            admins_only = False
            for number, body in enumerate(bodies):
                role, language = next(combos)
                role = "staff" if number == 0 else "admin" if admins_only else role
                page = await visit(role, language, method, path, body)
                admins_only = admins_only or (number == 0 and page.status_code == 403)

    assert visited > 500
    # One line per page and kind of problem: the same one repeats over bodies, roles and ids.
    kinds: dict[str, str] = {}
    for line in wrong:
        method_path, _, problem = line.partition(": ")
        key = re.sub(r"[0-9a-f-]{36}", "<id>", " ".join(method_path.split()[2:4])) + problem[:40]
        kinds.setdefault(key, line[:700])
    assert wrong == [], "\n".join(kinds.values()) + f"\n... {len(wrong)} in all"
