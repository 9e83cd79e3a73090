"""Domain errors; the HTTP layer maps each to a problem type in one table (orders_service.infra.problems)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors the domain raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidField(DomainError):
    """A value is well-formed but not acceptable (bad phone, ward outside its province, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class OrderNotAmendable(DomainError):
    """The order's status, the actor or the courier does not allow this change."""


class OrdersConflict(DomainError):
    """Orders that cannot be merged (or split) as asked, each with its reason: [(order id, reason)]."""

    def __init__(self, conflicts: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{order}: {reason}" for order, reason in conflicts))
        self.conflicts = conflicts


class InvalidTransition(DomainError):
    """The status machine does not allow this move (e.g. confirming a cancelled order)."""


class NotFound(DomainError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} does not exist")
        self.what = what


class VersionMismatch(DomainError):
    def __init__(self, current: int) -> None:
        super().__init__(f"the order changed meanwhile; its current version is {current}")
        self.current = current


class PreconditionRequired(DomainError):
    """A change was sent without If-Match."""


class PhoneTaken(DomainError):
    def __init__(self, phone: str, customer_id: str) -> None:
        super().__init__(f"phone {phone} already belongs to customer {customer_id}")
        self.phone = phone
        self.customer_id = customer_id


class IdentityTaken(DomainError):
    def __init__(self, kind: str, value: str, customer_id: str) -> None:
        super().__init__(f"{kind} {value} already belongs to customer {customer_id}")
        self.kind = kind
        self.value = value
        self.customer_id = customer_id


class CustomerMerged(DomainError):
    """A profile that was already merged into another one cannot be merged (or merged into) again."""

    def __init__(self, field: str, customer_id: str, into: str) -> None:
        super().__init__(f"{field}: customer {customer_id} was already merged into {into}")
        self.field = field
        self.customer_id = into


class OutOfStock(DomainError):
    """An order line (or try-on option) wants more of a catalogue variant than is available."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ProductExists(DomainError):
    """A product with that SKU is already in the catalogue."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"sku: a product {sku} is already in the catalogue; change it with PATCH /api/products/{sku}")
        self.field = "sku"
        self.message = f"a product {sku} is already in the catalogue"
