"""INSERT ... ON CONFLICT as statements SQLAlchemy caches.

SQLAlchemy never caches the PostgreSQL or SQLite `insert()` (`inherit_cache = False` on both dialects' Insert: its
ON CONFLICT clause has no cache key), so such a statement was compiled again on every execution: about 2 ms of
CPU each on PostgreSQL, on every courier webhook (its inbox row) and three times on a delivered one (the inbox,
her stats, her favourites). Here the same SQL is a `text()` statement written once from the table's columns,
with each value bound with its column's type (UUIDs, times and JSON converted as for any insert): compiled once
per database, then cached like any other statement. Both databases spell ON CONFLICT, `excluded.` and RETURNING
alike.

A text statement gets no column defaults from SQLAlchemy: `values` fills in the Python-side ones the table
declares (ids, times, fixed values), as an insert of the table would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnDefault, Table, TextClause, bindparam, text
from sqlalchemy.sql.compiler import RESERVED_WORDS
from sqlalchemy.sql.selectable import TextualSelect


def _quoted(name: str) -> str:
    """A column's name as both databases read it: a reserved word (notifications' `to`) in double quotes."""
    return f'"{name}"' if name.lower() in RESERVED_WORDS else name


class Upsert:
    """`INSERT INTO table (given, defaulted) VALUES (...) ON CONFLICT (conflict) DO NOTHING | DO UPDATE SET ...`.

    `given`: the columns every caller gives; the table's columns with a Python-side default are added. `set_`:
    column -> SQL expression (of `table.` and `excluded.` columns); none: DO NOTHING. `returning`: columns.
    """

    def __init__(
        self,
        table: Table,
        given: Sequence[str],
        conflict: Sequence[str],
        set_: Mapping[str, str] | None = None,
        returning: Sequence[str] = (),
    ) -> None:
        self._defaults = [
            (c.key, c.default) for c in table.c if isinstance(c.default, ColumnDefault) and c.key not in given
        ]
        self._given = frozenset(given)
        names = [*given, *(key for key, _ in self._defaults)]
        sql = (
            f"INSERT INTO {table.name} ({', '.join(_quoted(table.c[n].name) for n in names)}) "
            f"VALUES ({', '.join(':' + n for n in names)}) ON CONFLICT ({', '.join(conflict)}) "
        )
        sql += "DO UPDATE SET " + ", ".join(f"{k} = {v}" for k, v in set_.items()) if set_ else "DO NOTHING"
        if returning:
            sql += " RETURNING " + ", ".join(_quoted(table.c[n].name) for n in returning)
        statement = text(sql).bindparams(*(bindparam(n, type_=table.c[n].type) for n in names))
        self.statement: TextClause | TextualSelect = (
            statement.columns(*(table.c[n] for n in returning)) if returning else statement
        )

    def values(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """`given` (exactly the columns named at construction) with the defaults of the others."""
        if given.keys() != self._given:
            raise ValueError(f"an upsert of {sorted(self._given)} was given {sorted(given)}")
        filled = dict(given)
        for key, default in self._defaults:
            filled[key] = default.arg(None) if default.is_callable else default.arg
        return filled
