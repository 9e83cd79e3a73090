"""The dashboard's languages: the shared gettext machinery (orders_service.infra.i18n), its `messages` domain.

Kept as the dashboard's import point (`from orders_service.dashboard.i18n import N_, gettext`): the code lives in
infra/i18n.py, which the customer's page (its `public` domain) uses too.
"""

from __future__ import annotations

from orders_service.infra.i18n import (
    COOKIE,
    DEFAULT,
    LANGUAGES,
    LOCALE_DIR,
    N_,
    NAMES,
    LanguageMiddleware,
    _,
    current,
    gettext,
    known,
    language_of,
    ngettext,
    page_language,
    switch_url,
    template_gettext,
    template_ngettext,
    translations,
)

__all__ = [
    "COOKIE",
    "DEFAULT",
    "LANGUAGES",
    "LOCALE_DIR",
    "NAMES",
    "N_",
    "LanguageMiddleware",
    "_",
    "current",
    "gettext",
    "known",
    "language_of",
    "ngettext",
    "page_language",
    "switch_url",
    "template_gettext",
    "template_ngettext",
    "translations",
]
