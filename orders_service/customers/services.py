"""Customer use cases: create, get, search, and find-or-create by phone for new orders."""

from __future__ import annotations

import datetime
from uuid import UUID

from advanced_alchemy.filters import LimitOffset, OrderBy, SearchFilter, StatementFilter
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.customers.schemas import CustomerIn, CustomerOut, IdentityOut
from orders_service.db.engine import begin_write
from orders_service.db.models import Customer, CustomerIdentity, CustomerPhone
from orders_service.domain.errors import IdentityTaken, InvalidField, NotFound, PhoneTaken
from orders_service.domain.identities import normalise_identities
from orders_service.domain.phones import normalise_phone, normalise_phones
from orders_service.geo import fold
from orders_service.infra.pagination import Repository


def to_out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        full_name=customer.full_name,
        phones=[p.e164 for p in customer.phones],
        email=customer.email,
        birthday=customer.birthday,
        gender=customer.gender,
        source=customer.source,
        tags=list(customer.tags or []),
        identities=[IdentityOut(kind=i.kind, value=i.value) for i in customer.identities],
        merged_into=customer.merged_into_id,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        note=customer.note,
        erased_at=customer.erased_at,
    )


async def owner_of(session: AsyncSession, phones: list[str]) -> Customer | None:
    """The customer who owns the first of `phones` (E.164) that belongs to anyone."""
    rows = await session.execute(
        select(CustomerPhone.e164, CustomerPhone.customer_id).where(CustomerPhone.e164.in_(phones))
    )
    owners = dict(rows.tuples().all())
    for phone in phones:
        if phone in owners:
            return await session.get(Customer, owners[phone])
    return None


def identities_of(data: CustomerIn, prefix: str = "") -> list[tuple[str, str]]:
    """Her email (kept on the profile and as an identity) and buyer ids, normalised, without repeats."""
    given = [("email", data.email, f"{prefix}email")] if data.email is not None else []
    given += [(str(i.kind), i.value, f"{prefix}identities[{n}]") for n, i in enumerate(data.identities)]
    return normalise_identities(given)


async def identity_owner_of(session: AsyncSession, identities: list[tuple[str, str]]) -> Customer | None:
    """The customer who owns the first of `identities` that belongs to anyone."""
    if not identities:
        return None
    kinds = {kind for kind, _ in identities}
    rows = await session.execute(
        select(CustomerIdentity.kind, CustomerIdentity.value, CustomerIdentity.customer_id).where(
            CustomerIdentity.kind.in_(kinds), CustomerIdentity.value.in_([value for _, value in identities])
        )
    )
    owners = {(kind, value): owner for kind, value, owner in rows.tuples().all()}
    for identity in identities:
        if identity in owners:
            return await session.get(Customer, owners[identity])
    return None


MAX_PHONES = 5


async def find_customer(session: AsyncSession, data: CustomerIn, prefix: str) -> Customer | None:
    """Her profile for a new order: by any of her phones first, then by her email or a buyer id.

    The order's other phones and ids become hers too (a Shopee order found by phone teaches her buyer id), unless
    another profile holds them: that is a duplicate for staff to merge, not something to move silently.
    """
    phones = normalise_phones(data.phones, f"{prefix}phones", maximum=MAX_PHONES)
    identities = identities_of(data, prefix)
    found = await owner_of(session, phones) or await identity_owner_of(session, identities)
    if found is not None:
        await _remember(session, found, phones, identities)
    return found


async def find_or_create_customer(session: AsyncSession, data: CustomerIn, prefix: str) -> Customer:
    """find_customer, else her new profile (a new order's customer). One write transaction from the start, so
    the phones and identities the find saw free are still free at the INSERT: not asked a second time, as
    create_customer asks, nor normalised twice."""
    phones = normalise_phones(data.phones, f"{prefix}phones", maximum=MAX_PHONES)
    identities = identities_of(data, prefix)
    await begin_write(session)
    found = await owner_of(session, phones) or await identity_owner_of(session, identities)
    if found is not None:
        await _remember(session, found, phones, identities)
        return found
    customer = new_customer(data, phones, identities)
    session.add(customer)
    await session.flush()
    return customer


async def _remember(
    session: AsyncSession, customer: Customer, phones: list[str], identities: list[tuple[str, str]]
) -> None:
    known = {p.e164 for p in customer.phones}
    for phone in phones:
        if phone not in known and len(customer.phones) < MAX_PHONES and await owner_of(session, [phone]) is None:
            customer.phones.append(
                CustomerPhone(e164=phone, position=max((p.position for p in customer.phones), default=-1) + 1)
            )
            known.add(phone)
    held = {(i.kind, i.value) for i in customer.identities}
    for kind, value in identities:
        if (kind, value) not in held and await identity_owner_of(session, [(kind, value)]) is None:
            customer.identities.append(CustomerIdentity(kind=kind, value=value))
            held.add((kind, value))
            if kind == "email" and customer.email is None:
                customer.email = value
    await session.flush()


def new_customer(data: CustomerIn, phones: list[str], identities: list[tuple[str, str]]) -> Customer:
    """The profile `data` describes, with its phones and identities already normalised; not yet in a session.

    Whether the phones and identities are free is the caller's to know (create_customer asks the database; an
    import asks once for a whole batch).
    """
    name = data.full_name.strip()
    if not name:
        raise InvalidField("full_name", "give the customer's name")
    if data.birthday is not None and data.birthday > datetime.date.today():
        raise InvalidField("birthday", "a birthday cannot be in the future")
    return Customer(
        full_name=name,
        search_name=fold(name).lower(),
        email=next((value for kind, value in identities if kind == "email"), None),
        birthday=data.birthday,
        gender=data.gender,
        source=data.source,
        tags=list(dict.fromkeys(data.tags)),
        phones=[CustomerPhone(e164=phone, position=i) for i, phone in enumerate(phones)],
        identities=[CustomerIdentity(kind=kind, value=value) for kind, value in identities],
    )


async def create_customer(session: AsyncSession, data: CustomerIn, prefix: str = "") -> Customer:
    phones = normalise_phones(data.phones, f"{prefix}phones", maximum=MAX_PHONES)
    identities = identities_of(data, prefix)
    customer = new_customer(data, phones, identities)
    # A writer from the start: on SQLite a read that turns into a write fails at once if another writer (the
    # relay's claim, every 0.2 s) committed in between.
    await begin_write(session)
    existing = await owner_of(session, phones)
    if existing is not None:
        taken = next(p.e164 for p in existing.phones if p.e164 in phones)
        raise PhoneTaken(taken, str(existing.id))
    existing = await identity_owner_of(session, identities)
    if existing is not None:
        kind, value = next(i for i in identities if (i[0], i[1]) in {(x.kind, x.value) for x in existing.identities})
        raise IdentityTaken(kind, value, str(existing.id))
    session.add(customer)
    await session.flush()
    return customer


async def get_customer(session: AsyncSession, customer_id: UUID) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


async def survivor_of(session: AsyncSession, customer: Customer) -> Customer:
    """The profile a merged duplicate now lives on (itself when it was never merged)."""
    seen = {customer.id}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        seen.add(customer.merged_into_id)
        customer = await get_customer(session, customer.merged_into_id)
    return customer


class CustomerRepository(Repository[Customer]):
    model_type = Customer


async def search_customers(
    session: AsyncSession, *, phone: str | None, q: str | None, limit: int, offset: int
) -> tuple[list[Customer], int]:
    found: list[ColumnElement[bool] | StatementFilter] = [Customer.merged_into_id.is_(None)]
    if phone is not None:
        e164 = normalise_phone(phone, "phone")
        found.append(Customer.phones.any(CustomerPhone.e164 == e164))
    # Accent- and case-insensitive: staff type "lan" for "Lân"; each of the first five words must match.
    found += [SearchFilter("search_name", word, escape_wildcards=True) for word in fold(q or "").lower().split()[:5]]
    rows, total = await CustomerRepository(session=session).get_many_and_count(
        *found, OrderBy("created_at", "desc"), LimitOffset(limit, offset)
    )
    return list(rows), total
