"""Customer rows read into CustomerIn, and each merged into the profile that holds one of its phones (or created).

A row finds its profile the way a new order does (orders_service.customers.services.find_customer): by any of its
phones, then by its email or Shopee username; the row's other phones and emails join that profile unless another
profile holds them. What the profile lacks (birthday, gender) the row fills; tags are added; her name stays as
the profile has it. A row that finds no profile creates one.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any

import msgspec
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from orders_service.customers.schemas import CustomerIn, Gender, IdentityKind, Source
from orders_service.customers.services import MAX_PHONES, create_customer, find_customer, survivor_of
from orders_service.db.models import Customer, CustomerIdentity, CustomerPhone
from orders_service.domain.errors import DomainError, InvalidField
from orders_service.geo import fold
from orders_service.imports.formats import Binding
from orders_service.imports.rows import Failed, Parsed, RowError
from orders_service.imports.schemas import RowResult
from orders_service.imports.values import BadValue, date, several, tags

_GENDERS = {
    "nu": Gender.FEMALE,
    "female": Gender.FEMALE,
    "f": Gender.FEMALE,
    "nam": Gender.MALE,
    "male": Gender.MALE,
    "m": Gender.MALE,
    "khac": Gender.OTHER,
    "other": Gender.OTHER,
}
_UNKNOWN_GENDER = {"chua xac dinh", "khong xac dinh", "unknown", "-"}
_SOURCES = {"sapo": Source.POS, "kiotviet": Source.POS, "shopee": Source.SHOPEE}
_MASKED = re.compile(r"\*")
_PATH = re.compile(r"`\$\.?([^`]*)`")


@dataclasses.dataclass
class CustomerRow:
    line: int
    data: CustomerIn
    headers: dict[str, str]  # CustomerIn's field -> the file's header


def parse_customer(binding: Binding, line: int, cells: list[str], today: datetime.date) -> Parsed:
    try:
        return _parse(binding, line, cells, today)
    except RowError as error:
        return Failed(line, error.field, error.message)


def _parse(binding: Binding, line: int, cells: list[str], today: datetime.date) -> CustomerRow:
    def header(field: str) -> str:
        return binding.header(field)

    layout = binding.layout.name
    name = binding.cell(cells, "name")
    if layout == "sapo":  # Vietnamese order: family name first
        name = " ".join(part for part in (binding.cell(cells, "last_name"), binding.cell(cells, "first_name")) if part)
    phones = [phone for cell in binding.cells(cells, "phones") for phone in several(cell)]
    phones = list(dict.fromkeys(phones))
    if any(_MASKED.search(phone) for phone in phones):
        raise RowError(header("phones"), "the number is masked (Shopee hides it): no profile can be found by it")
    if not phones:
        raise RowError(header("phones"), "empty: a customer is found by her phone")
    if len(phones) > MAX_PHONES:
        raise RowError(header("phones"), f"{len(phones)} phones: a profile keeps at most {MAX_PHONES}")
    emails = list(dict.fromkeys(e.lower() for cell in binding.cells(cells, "emails") for e in several(cell)))
    fields: dict[str, Any] = {"full_name": name, "phones": phones, "tags": []}
    headers = {"full_name": header("first_name" if layout == "sapo" else "name"), "phones": header("phones")}
    if emails:
        fields["email"] = emails[0]
        headers["email"] = header("emails")
    identities = [{"kind": IdentityKind.EMAIL, "value": e} for e in emails[1:]]
    if binding.cell(cells, "buyer"):
        identities.append({"kind": IdentityKind.SHOPEE, "value": binding.cell(cells, "buyer")})
    if identities:
        fields["identities"] = identities
        headers["identities"] = header("emails") if emails[1:] else header("buyer")
    if binding.cell(cells, "birthday"):
        try:
            fields["birthday"] = date(binding.cell(cells, "birthday"), today)
        except BadValue as error:
            raise RowError(header("birthday"), str(error)) from None
        headers["birthday"] = header("birthday")
    gender = binding.cell(cells, "gender")
    if gender and fold(gender).lower() not in _UNKNOWN_GENDER:
        if fold(gender).lower() not in _GENDERS:
            raise RowError(header("gender"), f"{gender!r} is not Nam, Nữ or Khác (male, female, other)")
        fields["gender"] = _GENDERS[fold(gender).lower()]
    source = binding.cell(cells, "source").lower() or _SOURCES.get(layout)
    if source:
        if source not in set(Source):
            raise RowError(header("source"), f"{source!r} is not one of {', '.join(Source)}")
        fields["source"] = source
    fields["tags"] = tags(binding.cell(cells, "tags"))
    headers["tags"] = header("tags")
    try:
        data = msgspec.convert(fields, CustomerIn)
    except msgspec.ValidationError as error:
        raise RowError(*_field_of(str(error), headers)) from None
    return CustomerRow(line, data, headers)


def _field_of(message: str, headers: dict[str, str]) -> tuple[str, str]:
    """msgspec's "Expected ... - at `$.phones[1]`" as (the file's column, the reason)."""
    match = _PATH.search(message)
    path = match.group(1) if match else ""
    top = re.split(r"[.\[]", path)[0]
    reason = message.split(" - at ")[0]
    return headers.get(top, top or "row"), reason


class _NewRows:
    """Counts phones and identities a flush adds, to tell a row that changed a profile from one that did not."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, session: Session, _context: Any, _instances: Any) -> None:
        self.count += sum(isinstance(obj, CustomerPhone | CustomerIdentity) for obj in session.new)


async def apply_customers(session: AsyncSession, rows: list[CustomerRow]) -> list[RowResult]:
    """Each row in a savepoint of its own: a row refused leaves the others of the batch as they are."""
    added = _NewRows()
    event.listen(session.sync_session, "before_flush", added)
    try:
        return [await _apply(session, row, added) for row in rows]
    finally:
        event.remove(session.sync_session, "before_flush", added)


async def _apply(session: AsyncSession, row: CustomerRow, added: _NewRows) -> RowResult:
    try:
        async with session.begin_nested():
            before = added.count
            found = await find_customer(session, row.data, "")
            if found is None:
                customer = await create_customer(session, row.data)
                return RowResult(row.line, "created", key=str(customer.id))
            customer = await survivor_of(session, found)
            changed = _fill(customer, row.data) or added.count > before
            await session.flush()
            return RowResult(row.line, "updated" if changed else "unchanged", key=str(customer.id))
    except InvalidField as error:
        top = re.split(r"[.\[]", error.field)[0]
        return RowResult(row.line, "error", field=row.headers.get(top, error.field), message=error.message)
    except DomainError as error:
        return RowResult(row.line, "error", message=error.detail)
    except IntegrityError:
        message = "a concurrent change took one of these phones or emails meanwhile: import the row again"
        return RowResult(row.line, "error", field=row.headers["phones"], message=message)


def _fill(customer: Customer, data: CustomerIn) -> bool:
    """What the profile lacks, from the row: birthday, gender, new tags. True when something changed."""
    changed = False
    if customer.birthday is None and data.birthday is not None:
        customer.birthday, changed = data.birthday, True
    if customer.gender is None and data.gender is not None:
        customer.gender, changed = data.gender, True
    new_tags = [tag for tag in data.tags if tag not in (customer.tags or [])]
    if new_tags:
        customer.tags, changed = [*(customer.tags or []), *new_tags][:20], True
    return changed
