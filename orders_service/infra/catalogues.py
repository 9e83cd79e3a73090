"""Keeps the catalogues in step with the code: for each domain (infra/i18n.py's DOMAINS), extracts every marked
string its mapping names (babel.cfg for the dashboard, babel-public.cfg for the customer's page) to <domain>.pot
and merges it into each language's <domain>.po, new strings with an empty translation for the translator.

    PYTHONPATH=$PWD python -m orders_service.infra.catalogues   # after changing a string; then translate en

tests/unit/test_dashboard_catalogues.py and tests/unit/test_public_catalogue.py fail when a .pot or a .po lags
behind the code, or an English line is left untranslated."""

from __future__ import annotations

import io
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from orders_service.infra.i18n import DASHBOARD, DOMAINS, LANGUAGES, LOCALE_DIR, po_path

ROOT = LOCALE_DIR.parent.parent  # the checkout: the mappings name paths from there


def template_path(domain: str = DASHBOARD) -> Path:
    return LOCALE_DIR / f"{domain}.pot"


def extract(domain: str = DASHBOARD) -> Catalog:
    with (ROOT / DOMAINS[domain]).open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    catalog = Catalog(project="orders-service", charset="utf-8", domain=domain)
    for filename, lineno, message, comments, context in extract_from_dir(ROOT, method_map, options_map):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=language)


_DATED = re.compile(rb'^"POT-Creation-Date: .*$', re.M)


def write(catalog: Catalog, path: Path) -> None:
    buffer = io.BytesIO()
    # File names without line numbers: moving a line of code does not rewrite every catalogue.
    write_po(buffer, catalog, width=120, ignore_obsolete=True, include_lineno=False)
    text = buffer.getvalue()
    if path.exists() and _DATED.sub(b"", path.read_bytes()) == _DATED.sub(b"", text):
        return  # only the date would change: a refresh of one domain leaves the other's files alone
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)


def refresh(domain: str = DASHBOARD) -> None:
    template = extract(domain)
    template.fuzzy = False
    write(template, template_path(domain))
    for language in LANGUAGES:
        path = po_path(language, domain)
        catalog = read(path, language) if path.exists() else Catalog(locale=language, project="orders-service")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False  # a fuzzy header would make gettext skip the catalogue's plural rule
        write(catalog, path)


def refresh_all() -> None:
    for domain in DOMAINS:
        refresh(domain)


if __name__ == "__main__":
    refresh_all()
