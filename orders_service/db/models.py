"""SQLAlchemy models: customers, orders and their events, the outbox, couriers' state, the loyalty ledger, staff."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

# Registered on the same metadata as the tables below (migrations, the Celery engine's cleanup see them).
from orders_service.catalogue.models import OrderParcel, Product, ProductVariant, StockReservation, StockSale  # noqa: F401
from orders_service.cod.models import CodStatement, CodStatementRow  # noqa: F401
from orders_service.customers.models import CustomerAudit  # noqa: F401  # exports and erasures (Decree 13)
from orders_service.infra import clock
from orders_service.messaging.models import Notification, NotificationConsent, UnsubscribeToken  # noqa: F401


def _now() -> datetime.datetime:
    return clock.now()


class Customer(UUIDv7AuditBase):
    __tablename__ = "customers"

    full_name: Mapped[str] = mapped_column(String(120))
    # Lower-case, accents folded: "lan" finds "Lân" and "Nguyễn Thị Lan".
    search_name: Mapped[str] = mapped_column(String(120), index=True)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    birthday: Mapped[datetime.date | None] = mapped_column(Date, default=None)
    gender: Mapped[str | None] = mapped_column(String(8), default=None)
    source: Mapped[str | None] = mapped_column(String(16), default=None)
    tags: Mapped[list[str]] = mapped_column(JsonB, default=list)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    erased_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(True), default=None)  # Decree 13 erasure
    # A duplicate profile merged into another keeps its row (orders and audit point at it) but no identities.
    merged_into_id: Mapped[UUID | None] = mapped_column(ForeignKey("customers.id"), default=None, index=True)
    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer",
        order_by="CustomerPhone.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    identities: Mapped[list[CustomerIdentity]] = relationship(
        order_by="CustomerIdentity.id", cascade="all, delete-orphan", lazy="selectin"
    )


class CustomerPhone(UUIDv7Base):
    __tablename__ = "customer_phones"

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String(20), unique=True)  # one person, one profile
    position: Mapped[int] = mapped_column(Integer, default=0)
    customer: Mapped[Customer] = relationship(back_populates="phones")


class CustomerIdentity(UUIDv7Base):
    """An email or a marketplace/chat buyer id that names one customer."""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_customer_identities_kind_value"),)

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | shopee | lazada | tiktok | facebook | zalo
    value: Mapped[str] = mapped_column(String(254))


class CustomerMerge(UUIDv7Base):
    """The audit record of a profile merge: who merged which duplicates into which profile, and what moved."""

    __tablename__ = "customer_merges"

    into_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    from_ids: Mapped[list[str]] = mapped_column(JsonB)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    summary: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)


class Order(UUIDv7AuditBase):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer_created", "customer_id", "created_at"),
        Index("ix_orders_status_created", "status", "created_at"),
    )

    code: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Events number 1, 2, ... per order; notes (a courier acknowledged, a sync failed) add events, not versions.
    last_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient_name: Mapped[str] = mapped_column(String(120))
    recipient_phones: Mapped[list[str]] = mapped_column(JsonB)
    address_line: Mapped[str] = mapped_column(String(200))
    ward_code: Mapped[int] = mapped_column(Integer)
    province_code: Mapped[int] = mapped_column(Integer)
    address_input: Mapped[str | None] = mapped_column(String(300), nullable=True)  # as typed, if not as codes
    shipping_fee: Mapped[int] = mapped_column(BigInteger)
    shipping_payer: Mapped[str] = mapped_column(String(8))
    discount_percent: Mapped[int] = mapped_column(Integer, default=0)
    discount_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    # Derived by domain.money on every change; stored so lists can filter and sort on money.
    subtotal: Mapped[int] = mapped_column(BigInteger)
    discount_amount: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    cod_amount: Mapped[int] = mapped_column(BigInteger)
    refund_due: Mapped[int] = mapped_column(BigInteger)
    courier: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    merged_into_id: Mapped[UUID | None] = mapped_column(ForeignKey("orders.id"), default=None, index=True)
    split_from_id: Mapped[UUID | None] = mapped_column(ForeignKey("orders.id"), default=None, index=True)
    # A cancel or merge asked for while the courier holds a live parcel: it waits for the courier's confirmation
    # (orders/pending.py); read in Python only, never filtered on (JSON null and SQL NULL differ by database).
    pending_cancel: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.position", cascade="all, delete-orphan", lazy="selectin"
    )
    shipment: Mapped[Shipment | None] = relationship(lazy="selectin", viewonly=True, uselist=False)
    parcel: Mapped[OrderParcel | None] = relationship(lazy="selectin", cascade="all, delete-orphan")  # catalogue/stock


class OrderLine(UUIDv7Base):
    __tablename__ = "order_lines"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[str | None] = mapped_column(String(32), default=None)
    color: Mapped[str | None] = mapped_column(String(32), default=None)
    unit_price: Mapped[int | None] = mapped_column(BigInteger, default=None)
    quantity: Mapped[int] = mapped_column(Integer)
    # Try-on lines: the options sent to the door, then what the courier reported kept.
    tryon_options: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonB, default=None)
    kept: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonB, default=None)
    order: Mapped[Order] = relationship(back_populates="lines")


class OrderEvent(UUIDv7Base):
    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("order_id", "seq", name="uq_order_events_order_seq"),)

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64), default=None)
    type: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    operations: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    changes: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    cod_before: Mapped[int | None] = mapped_column(BigInteger, default=None)
    cod_after: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)


class OutboxMessage(UUIDv7Base):
    """A side effect decided in a transaction, carried out later by the relay (courier sync, messages)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "processed_at", "available_at"), Index("ix_outbox_dead_at", "dead_at"))

    topic: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    available_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    processed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Given up on (a permanent error, or ORDERS_RELAY_MAX_ATTEMPTS failures): processed_at is set too, so the
    # relay leaves it alone until staff retry it from the dashboard.
    dead_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class ApiKey(UUIDv7AuditBase):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of a 256-bit random key
    prefix: Mapped[str] = mapped_column(String(12))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class Shipment(UUIDv7AuditBase):
    """An order's parcel at its courier, and how far the courier has caught up with the order."""

    __tablename__ = "shipments"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    courier: Mapped[str] = mapped_column(String(16))
    # Our idempotency key at the courier; a cancel-and-recreate (GHTK) moves to the next generation.
    client_code: Mapped[str] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(Integer, default=1)
    tracking_code: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    status: Mapped[str] = mapped_column(String(24), default="pending")  # couriers.base.Status, or pending
    raw_status: Mapped[str | None] = mapped_column(String(64), default=None)
    sync_state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | synced | sync_failed
    synced_version: Mapped[int | None] = mapped_column(Integer, default=None)
    synced: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)  # the parcel the courier has
    # Per aspect the courier refused: {"recipient": {"message": "...", "value": [...]}}; not resent while the
    # order still wants that same value (see shipping/plan.py).
    refused: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)
    cod_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    cod_collected: Mapped[int | None] = mapped_column(BigInteger, default=None)  # what the courier says it collected
    fee: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    create_attempted: Mapped[bool] = mapped_column(default=False)
    # One sync at a time per shipment, across processes: a lease taken by compare-and-set.
    lease_until: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    status_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # GHN sends the part a customer refused back under an order of its own: tracked until it is back.
    return_code: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    return_status: Mapped[str | None] = mapped_column(String(24), default=None)  # couriers.base.Status

    __table_args__ = (UniqueConstraint("courier", "client_code", name="uq_shipments_courier_client_code"),)


class CourierInbox(UUIDv7Base):
    """Every verified courier event, stored once under its key before it is applied."""

    __tablename__ = "courier_inbox"
    __table_args__ = (UniqueConstraint("courier", "event_key", name="uq_courier_inbox_courier_event"),)

    courier: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(200))
    tracking_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    received_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    outcome: Mapped[str] = mapped_column(String(24), default="applied")  # applied | stale | unmatched


class CourierAddress(UUIDv7Base):
    """Our ward (2025 units) in a courier's own terms, for couriers that still address by district."""

    __tablename__ = "courier_addresses"
    __table_args__ = (UniqueConstraint("courier", "ward_code", name="uq_courier_addresses_courier_ward"),)

    courier: Mapped[str] = mapped_column(String(16))
    ward_code: Mapped[int] = mapped_column(Integer)
    ids: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)  # e.g. {"district_id": 1442, "ward_code": "20109"}


class StaffAlert(UUIDv7Base):
    """Something staff must act on (a courier refused a change); the notifications feature sends them."""

    __tablename__ = "staff_alerts"

    kind: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    resolved_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class OrderReturn(UUIDv7Base):
    """An item that came back to the shop from an order's parcel, to put back in stock."""

    __tablename__ = "order_returns"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[str | None] = mapped_column(String(32), default=None)
    color: Mapped[str | None] = mapped_column(String(32), default=None)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))  # tryon_not_kept | not_kept | returned
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)


class PointsEntry(UUIDv7Base):
    """One line of a customer's points ledger: append-only, never updated, never deleted.

    `points` are spendable; `spend` (VND) and `orders_delta` are the tier metrics, kept apart from them.
    (order_id, kind, ref) is unique: an order earns once, and each return of it reverses once.
    """

    __tablename__ = "points_ledger"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", "ref", name="uq_points_ledger_order_kind_ref"),
        Index("ix_points_ledger_customer_created", "customer_id", "created_at"),
    )

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[UUID | None] = mapped_column(ForeignKey("orders.id"), default=None)
    kind: Mapped[str] = mapped_column(String(8))  # earn | reverse | redeem | expire | adjust
    ref: Mapped[str] = mapped_column(String(64), default="")
    points: Mapped[int] = mapped_column(BigInteger)
    spend: Mapped[int] = mapped_column(BigInteger)
    orders_delta: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    expires_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    note: Mapped[str | None] = mapped_column(String(200), default=None)


class CustomerStats(DefaultBase):
    """What segments and the profile read, kept in the transaction completing or returning her order (loyalty/stats.py).

    `orders`/`spend` are the ledger's sums; the first/last completed order's times are compared with "now" at query
    time, so segments stay right as time passes. No completed order and no tier spend: no row.
    """

    __tablename__ = "customer_stats"

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0, index=True)
    spend: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    first_order_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    last_order_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(True), default=None, index=True)


class CustomerFavorite(DefaultBase):
    """How many items of a size, colour or SKU she kept (the profile's favourites), kept beside customer_stats."""

    __tablename__ = "customer_favorites"

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # size | color | sku
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class CustomerTier(UUIDv7Base):
    """The tier a customer holds now, when it is next reviewed, and the floor staff set by hand."""

    __tablename__ = "customer_tiers"

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), unique=True)
    tier: Mapped[str] = mapped_column(String(32))
    manual_floor: Mapped[str | None] = mapped_column(String(32), default=None)
    since: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    review_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class TierChange(UUIDv7Base):
    """A customer's move from one tier to another, and why."""

    __tablename__ = "tier_history"

    customer_id: Mapped[UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    from_tier: Mapped[str | None] = mapped_column(String(32), default=None)
    to_tier: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)


class EditLink(UUIDv7Base):
    """A customer's private link to one order: only the SHA-256 of its token is kept, never the token."""

    __tablename__ = "edit_links"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    created_by: Mapped[str | None] = mapped_column(String(64), default=None)


class StaffUser(UUIDv7AuditBase):
    """A person who signs in to the dashboard; API keys stay for integrations."""

    __tablename__ = "staff_users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # staff | admin
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, with its parameters and salt
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class StaffSession(UUIDv7Base):
    """A signed-in browser: the cookie holds a random id, the table only its SHA-256."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))


class ShopSetting(UUIDv7Base):
    """A setting an admin changed in the dashboard; it overrides the environment's value of the same key."""

    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(32), unique=True)
    value: Mapped[dict[str, Any]] = mapped_column(JsonB)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), default=_now)
    updated_by: Mapped[str] = mapped_column(String(64))


from orders_service.db import schedule_models  # noqa: E402, F401  (the edit window's table, same metadata)
from orders_service.returns import models as return_models  # noqa: E402, F401  (return requests, same metadata)
