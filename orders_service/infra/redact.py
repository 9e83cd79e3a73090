"""What never reaches a log line: secrets (link tokens, webhook secrets in URLs, keys and credentials in headers)
and full phone numbers.

Access lines quote the request's path and query, and error messages may quote a URL or a header mapping, so the
rules work on any text: by where a secret sits, not by which logger writes it.
"""

from __future__ import annotations

import logging
import re

# The path segment after a link prefix is the secret itself (`/o/{token}`, `/api/public/orders/{token}/...`,
# and the unsubscribe link `/u/{token}`).
_LINK_TOKEN = re.compile(r"(/o/|/u/|/api/public/orders/)[^/?#\s\"'<>]+")
# Words that make a query parameter, form field or header a secret: GHN's `?token=`, GHTK's `?hash=`, `key`,
# `secret`, `signature`, `password`, `api_key`, `access_token`, `session`, `csrftoken`, `authorization`, ...
_SECRET_WORDS = "token hash key secret sig password passwd pwd auth session cookie credential".split()  # noqa: SIM905
_SECRET_NAME = rf"[\w.-]*(?:{'|'.join(_SECRET_WORDS)})[\w.-]*"
# name=value in a query string or form body: the value runs to the next separator.
_PARAM = re.compile(rf"(?i)((?:^|[?&;\s])(?:{_SECRET_NAME})=)[^&#;\s\"'<>]*")
# name: value, or 'name': 'value' in a mapping's repr: a header. A quoted value runs to its closing quote, a bare
# one to the end of the line (a signature header holds commas, a cookie semicolons).
_HEADER = re.compile(rf"""(?i)(\b(?:{_SECRET_NAME})['"]?\s*:\s*)(?:'[^']*'|"[^"]*"|[^\s'"}}][^\n'"}}]*)""")
# Credentials however they are labelled: `Bearer <key>`, our API keys, Standard Webhooks secrets.
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+")
_PREFIXED = re.compile(r"\b(osk_|whsec_)[\w+/=-]+")
# A Vietnamese phone in any common form: 0 or (+)84, then 8 to 10 more digits, spaces, dots or dashes between.
_PHONE = r"(?<![\w+])(?:\+?84|0)(?:[ .-]?\d){8,10}(?!\d)"
# A UUID (an order's id in a path) is matched first and kept whole: its last group may be `0` and nine digits.
_PHONE_OR_UUID = re.compile(rf"(?P<uuid>\b[0-9a-fA-F]{{8}}(?:-[0-9a-fA-F]{{4}}){{3}}-[0-9a-fA-F]{{12}}\b)|{_PHONE}")


def _mask_header(match: re.Match[str]) -> str:
    return match.group(1) + "***"


def _mask_phone(match: re.Match[str]) -> str:
    if match.group("uuid"):
        return match.group(0)
    digits = re.sub(r"\D", "", match.group(0))
    return f"***{digits[-3:]}"


# Anything any rule above could change, in one pass: most lines (an access line, with an order's id) have none.
# A UUID alone changes nothing, so the phone rule is enough here; case is ignored throughout, which can only find
# more. It is slow (each word is scanned once per place a secret's name could start in it), so an ASCII line is
# first asked the cheaper questions below.
_ANYTHING = re.compile(
    "|".join(
        rule.removeprefix("(?i)")
        for rule in (_LINK_TOKEN.pattern, _PARAM.pattern, _HEADER.pattern, _BEARER.pattern, _PREFIXED.pattern, _PHONE)
    ),
    re.IGNORECASE,
)
# What every rule needs somewhere in an ASCII line, lowercased: a link prefix, a secret's name, a credential's
# label or prefix (case-insensitive matching has Unicode equivalents beyond str.lower, such as "ſ" for "s",
# hence ASCII only). A phone needs a 0 or 84 and eight more digits, separators allowed between them.
_NEEDLES = ("/o/", "/u/", "/api/public/orders/", *_SECRET_WORDS, "bearer", "basic", "osk_", "whsec_")
_PHONE_START = re.compile(r"(?:\+?84|0)(?:[ .-]?\d){8}")


def redact(text: str) -> str:
    """`text` with every secret replaced by `***` and phones cut to their last three digits."""
    if text.isascii():
        lowered = text.lower()
        if not any(needle in lowered for needle in _NEEDLES) and _PHONE_START.search(text) is None:
            return text
        return redact_rules(text)
    return text if _ANYTHING.search(text) is None else redact_rules(text)


def redact_rules(text: str) -> str:
    """redact() without its one-pass check: each rule in turn."""
    text = _LINK_TOKEN.sub(r"\1***", text)
    text = _PARAM.sub(r"\1***", text)
    text = _BEARER.sub(r"\1 ***", text)
    text = _HEADER.sub(_mask_header, text)
    text = _PREFIXED.sub(r"\1***", text)
    return _PHONE_OR_UUID.sub(_mask_phone, text)


class RedactFilter(logging.Filter):
    """Cleans each record before any handler sees it: no secret or phone reaches a log line.

    The message and its string arguments are cleaned in place, so formatters that read the arguments
    themselves (uvicorn's access log takes the path from them) still work; a message still unclean once
    formatted is replaced by its cleaned formatted text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
            if not record.args:  # nothing to format: the message is this text, already clean
                return True
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Loggers whose handlers write what the served app logs: uvicorn's (errors, access), Litestar's, and the root.
SERVED_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "litestar", "celery")


def install_redaction(names: tuple[str, ...] = SERVED_LOGGERS) -> None:
    """Put a RedactFilter on every handler of these loggers (once), so records from any logger are cleaned."""
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactFilter) for f in handler.filters):
                handler.addFilter(RedactFilter())
