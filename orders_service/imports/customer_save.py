"""A batch of customer rows saved: new people inserted together, the others merged one by one into their profile.

The slow way for every row (find_customer, then create_customer) asks the database four or five times per row.
Here one query per batch finds which phones and identities already belong to someone; a row none of whose phones
or identities is known, nor named by an earlier row of the batch, is a new profile, built as create_customer
builds it (new_customer) and inserted with the others in one flush. Every other row takes the slow way, in a
savepoint of its own (orders_service.imports.customers).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.customers.services import MAX_PHONES, identities_of, new_customer
from orders_service.db.engine import begin_write
from orders_service.db.models import Customer, CustomerIdentity, CustomerPhone
from orders_service.domain.errors import InvalidField
from orders_service.domain.phones import normalise_phones
from orders_service.imports.customers import CustomerRow, apply_customers
from orders_service.imports.schemas import RowResult

Key = tuple[str, str]  # ("phone", e164) or (kind, value) of an identity


async def save_customers(session: AsyncSession, rows: list[CustomerRow]) -> list[RowResult]:
    await begin_write(session)
    results: dict[int, RowResult] = {}
    prepared: list[tuple[CustomerRow, list[str], list[Key]]] = []
    for row in rows:
        try:
            phones = normalise_phones(row.data.phones, "phones", maximum=MAX_PHONES)
            prepared.append((row, phones, identities_of(row.data)))
        except InvalidField as error:
            results[row.line] = _refused(row, error)
    known = await _known(session, prepared)
    pending: list[tuple[CustomerRow, Customer]] = []
    pending_keys: set[Key] = set()

    async def insert_pending() -> None:
        session.add_all([customer for _, customer in pending])
        await session.flush()
        for row, customer in pending:
            results[row.line] = RowResult(row.line, "created", key=str(customer.id))
        known.update(pending_keys)
        pending.clear()
        pending_keys.clear()

    for row, phones, identities in prepared:
        keys = {("phone", p) for p in phones} | set(identities)
        if keys & (known | pending_keys):
            if pending:
                await insert_pending()
            results[row.line] = (await apply_customers(session, [row]))[0]
            known.update(keys)
            continue
        try:
            pending.append((row, new_customer(row.data, phones, identities)))
            pending_keys.update(keys)
        except InvalidField as error:
            results[row.line] = _refused(row, error)
    if pending:
        await insert_pending()
    return [results[row.line] for row in rows]


async def _known(session: AsyncSession, prepared: list[tuple[CustomerRow, list[str], list[Key]]]) -> set[Key]:
    """Which of the batch's phones and identities already belong to a profile: two queries for the batch."""
    phones = sorted({p for _, row_phones, _ in prepared for p in row_phones})
    identities = {i for _, _, row_identities in prepared for i in row_identities}
    known: set[Key] = set()
    if phones:
        found = await session.scalars(select(CustomerPhone.e164).where(CustomerPhone.e164.in_(phones)))
        known |= {("phone", phone) for phone in found}
    if identities:
        rows = await session.execute(
            select(CustomerIdentity.kind, CustomerIdentity.value).where(
                CustomerIdentity.value.in_(sorted({value for _, value in identities}))
            )
        )
        known |= {(kind, value) for kind, value in rows.tuples() if (kind, value) in identities}
    return known


def _refused(row: CustomerRow, error: InvalidField) -> RowResult:
    top = re.split(r"[.\[]", error.field)[0]
    return RowResult(row.line, "error", field=row.headers.get(top, error.field), message=error.message)
