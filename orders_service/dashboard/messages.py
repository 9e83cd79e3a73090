"""Keeps the catalogues in step with the code: extracts every marked string (babel.cfg) to messages.pot and merges
it into each language's messages.po, new strings with an empty translation for the translator.

    PYTHONPATH=$PWD python -m orders_service.dashboard.messages   # after changing a string; then translate en

tests/unit/test_dashboard_catalogues.py fails when the .pot or a .po lags behind the code, or an English line is
left untranslated."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from orders_service.dashboard.i18n import LANGUAGES, LOCALE_DIR

ROOT = LOCALE_DIR.parent.parent  # the checkout: babel.cfg names paths from there
TEMPLATE = LOCALE_DIR / "messages.pot"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    catalog = Catalog(project="orders-service", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(ROOT, method_map, options_map):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=language)


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        # File names without line numbers: moving a line of code does not rewrite every catalogue.
        write_po(file, catalog, width=120, ignore_obsolete=True, include_lineno=False)


def refresh() -> None:
    template = extract()
    template.fuzzy = False
    write(template, TEMPLATE)
    for language in LANGUAGES:
        path = po_path(language)
        catalog = read(path, language) if path.exists() else Catalog(locale=language, project="orders-service")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False  # a fuzzy header would make gettext skip the catalogue's plural rule
        write(catalog, path)


if __name__ == "__main__":
    refresh()
