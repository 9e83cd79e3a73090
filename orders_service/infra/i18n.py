"""The pages' languages: gettext catalogues (Babel) read from orders_service/locale/<lang>/LC_MESSAGES/<domain>.po.

Two domains, one per audience: `messages` holds the staff dashboard's words, `public` the customer's page at
/o/<token> (links/ and templates/public/). Each has its own .po, so a translator of the customer's page works
on the few lines a customer reads, and the same Vietnamese word may be translated for each audience
("Đơn hàng" is "Orders" in the dashboard's menu, "Order" above her order). babel.cfg and babel-public.cfg say
which files feed which domain; `python -m orders_service.infra.catalogues` refreshes both.

Source strings are Vietnamese (msgid = the text a Vietnamese reader sees today): the page without any catalogue
reads right, and a translator works on one file per language (en/<domain>.po) with the Vietnamese beside each
English line. The vi catalogue exists (empty msgstr = the msgid) so that a Vietnamese wording can be changed
there without touching code.

The language of a request: `?lang=` (and it is remembered in a cookie), then the cookie, then Accept-Language,
else Vietnamese. Codes (event types, statuses, segments...) are marked with N_() next to their Vietnamese label and
translated when shown.
"""

from __future__ import annotations

import contextvars
import functools
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import pass_context
from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"
COOKIE = "lang"
NAMES = {"vi": "Tiếng Việt", "en": "English"}  # each in its own language: never translated
DASHBOARD = "messages"
PUBLIC = "public"
DOMAINS = {DASHBOARD: "babel.cfg", PUBLIC: "babel-public.cfg"}  # each domain's extraction mapping (at the root)
# Templates whose words are another domain's (the rest are the dashboard's): by the folder of the page rendered.
TEMPLATE_DOMAINS = {"public/": PUBLIC}

current: contextvars.ContextVar[str] = contextvars.ContextVar("page_language", default=DEFAULT)


def N_(message: str) -> str:
    return message


def po_path(language: str, domain: str = DASHBOARD) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


@functools.cache
def translations(language: str, domain: str = DASHBOARD) -> Translations:
    """The .po read at first use (no compiled .mo to go stale): parsed by Babel, served by gettext."""
    with po_path(language, domain).open("rb") as po:
        catalog = read_po(po, locale=language, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)


def known(message: str, domain: str = DASHBOARD) -> bool:
    """Whether a text is a msgid of the catalogues (else it came from elsewhere, e.g. an English domain error)."""
    return message in _msgids(domain)


@functools.cache
def _msgids(domain: str) -> frozenset[str]:
    with po_path("en", domain).open("rb") as po:
        return frozenset(str(m.id) for m in read_po(po) if m.id and isinstance(m.id, str))


def _accepted(header: str) -> str | None:
    """The first of our languages in an Accept-Language header, by its q weight."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and weight > 0:
            choices.append((-weight, position, primary))
    return min(choices)[2] if choices else None


def language_of(request: Request[Any, Any, Any]) -> str:
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    kept = request.cookies.get(COOKIE, "")
    if kept in LANGUAGES:
        return kept
    return _accepted(request.headers.get("accept-language", "")) or DEFAULT


def gettext(message: str, language: str | None = None, domain: str = DASHBOARD) -> str:
    return translations(language or current.get(), domain).gettext(message)


def ngettext(singular: str, plural: str, n: int, language: str | None = None, domain: str = DASHBOARD) -> str:
    return translations(language or current.get(), domain).ngettext(singular, plural, n)


_ = gettext


def _template_domain(context: Any) -> str:
    name = str(getattr(context, "name", None) or "")
    return next((domain for folder, domain in TEMPLATE_DOMAINS.items() if name.startswith(folder)), DASHBOARD)


def _template_language(context: Any) -> str | None:
    """The request's language, worked out at the render's first string and kept with the request, not once per
    string (its query, cookie and Accept-Language: a list of 50 orders translates some 250 strings)."""
    request = context.get("request")
    if request is None:
        return None
    scope: dict[str, Any] = request.scope
    found: str | None = scope.get(_LANGUAGE_KEY)
    if found is None:
        found = scope[_LANGUAGE_KEY] = language_of(request)
    return found


_LANGUAGE_KEY = "orders_service.page_language"


@pass_context
def template_gettext(context: Any, message: str) -> str:
    return gettext(message, _template_language(context), _template_domain(context))


@pass_context
def template_ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return ngettext(singular, plural, n, _template_language(context), _template_domain(context))


@pass_context
def switch_url(context: Any, language: str) -> str:
    """This page in another language: its path and query, `lang` replaced."""
    request = context.get("request")
    if request is None:
        return f"?lang={language}"
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + "?" + urlencode([*query, ("lang", language)])


@pass_context
def page_language(context: Any) -> str:
    request = context.get("request")
    return language_of(request) if request is not None else DEFAULT


class LanguageMiddleware:
    """Sets the request's language for Python code (a context variable) and remembers `?lang=` in a cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope)
        language = language_of(request)
        current.set(language)
        asked = request.query_params.get("lang", "")

        async def remember(message: Message) -> None:
            if message["type"] == "http.response.start" and asked in LANGUAGES:
                cookie = f"{COOKIE}={asked}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, remember)
