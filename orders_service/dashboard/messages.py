"""The dashboard's catalogue (`messages` domain) in step with the code; the tool is infra/catalogues.py.

    PYTHONPATH=$PWD python -m orders_service.dashboard.messages   # refreshes every domain, this one included

Kept so that the command and the names the dashboard's catalogue test imports still work."""

from __future__ import annotations

from babel.messages.catalog import Catalog

from orders_service.infra import catalogues
from orders_service.infra.catalogues import read, refresh_all, write
from orders_service.infra.i18n import DASHBOARD, LANGUAGES, LOCALE_DIR, po_path

TEMPLATE = catalogues.template_path(DASHBOARD)


def extract() -> Catalog:
    return catalogues.extract(DASHBOARD)


__all__ = ["LANGUAGES", "LOCALE_DIR", "TEMPLATE", "extract", "po_path", "read", "refresh_all", "write"]

if __name__ == "__main__":
    refresh_all()
