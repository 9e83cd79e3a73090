"""The dashboard's languages: gettext catalogues (Babel) read from orders_service/locale/<lang>/LC_MESSAGES/messages.po.

Source strings are Vietnamese (msgid = the text a Vietnamese shop reads today): the shop's staff work in Vietnamese,
the page without any catalogue reads right, and a translator works on one file per language (en/messages.po) with
the Vietnamese beside each English line. The vi catalogue exists (empty msgstr = the msgid) so that a Vietnamese
wording can be changed there without touching code.

The language of a request: `?lang=` (and it is remembered in a cookie), then the cookie, then Accept-Language,
else Vietnamese. Codes (event types, statuses, segments...) are marked with N_() next to their Vietnamese label and
translated when shown; `orders_service.dashboard.catalogue` extracts every marked string to messages.pot.
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

current: contextvars.ContextVar[str] = contextvars.ContextVar("dashboard_language", default=DEFAULT)


def N_(message: str) -> str:
    return message


@functools.cache
def translations(language: str) -> Translations:
    """The .po read at first use (no compiled .mo to go stale): parsed by Babel, served by gettext."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def known(message: str) -> bool:
    """Whether a text is a msgid of the catalogues (else it came from elsewhere, e.g. an English domain error)."""
    return message in _msgids()


@functools.cache
def _msgids() -> frozenset[str]:
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
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


def gettext(message: str, language: str | None = None) -> str:
    return translations(language or current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int, language: str | None = None) -> str:
    return translations(language or current.get()).ngettext(singular, plural, n)


_ = gettext


@pass_context
def template_gettext(context: Any, message: str) -> str:
    request = context.get("request")
    return gettext(message, language_of(request) if request is not None else None)


@pass_context
def template_ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    request = context.get("request")
    return ngettext(singular, plural, n, language_of(request) if request is not None else None)


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
                cookie = f"{COOKIE}={asked}; Path=/; Max-Age=31536000; SameSite=Lax"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, remember)
