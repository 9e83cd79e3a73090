"""The fake GHTK's rules: create validation, the fee table and the order view (couriers.md §2.1-§2.5, §9)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from couriers.ghtk.statuses import status_text

# §2.1 documents these codes; the ones in capitals are [G] stand-ins for codes the docs do not show.
MISSING_ORDER, ID_TOO_LONG, MISSING_WEIGHT, BAD_TRANSPORT = "30101", "30102", "30103", "30104"
FIELD_REQUIRED, BAD_TEL = "ORDER_FIELD_REQUIRED", "INVALID_TEL"
ORDER_ID_EXIST, ORDER_NOT_FOUND = "ORDER_ID_EXIST", "ORDER_NOT_FOUND"
# [G] the minimum the real API surely needs (§2.2 lists id, pick_name and pick_money as confirmed).
REQUIRED: tuple[str, ...] = ("id", "pick_name", "pick_money", "pick_address", "pick_province", "pick_tel")
REQUIRED += ("name", "address", "province", "tel", "hamlet")
PARTIAL_TAGS = frozenset({17, 18, 19})
_TEL = re.compile(r"0\d{9}")


class FakeError(Exception):
    """A refusal in GHTK's error envelope."""

    def __init__(self, status_code: int, message: str, error_code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status_code, self.message, self.error_code, self.extra = status_code, message, error_code, extra

    def body(self, log_id: str) -> dict[str, Any]:
        envelope: dict[str, Any] = {"success": False, "message": self.message}
        if self.error_code is not None:
            envelope["error_code"] = self.error_code
        return {**envelope, "log_id": log_id, **self.extra}


@dataclass
class FakeOrder:
    label: str
    tracking_id: int
    order: dict[str, Any]
    products: list[dict[str, Any]]
    status_id: int
    fee: int
    insurance_fee: int
    created: str
    modified: str
    pick_money: int = 0
    history: list[int] = field(default_factory=list)

    @property
    def buyer_pays(self) -> int:
        """What the shipper collects: pick_money, plus GHTK's fee unless is_freeship=1 (couriers.md §2.2)."""
        return self.pick_money + (0 if str(self.order.get("is_freeship", 0)) == "1" else self.fee)

    @property
    def partner_id(self) -> str:
        return str(self.order["id"])

    def weight_g(self) -> int:
        return total_weight_g(self.order, self.products)

    def view(self) -> dict[str, Any]:
        """The `order` object of GET /services/shipment/v2/{label} (§2.4)."""
        o = self.order
        where = [o.get("address"), o.get("hamlet"), o.get("ward"), o.get("district"), o.get("province")]
        return {
            "label_id": self.label,
            "partner_id": self.partner_id,
            "status": str(self.status_id),  # a string in GHTK's answers, unlike the webhook's number
            "status_text": status_text(self.status_id),
            "created": self.created,
            "modified": self.modified,
            "message": o.get("note", ""),
            "pick_date": None,
            "deliver_date": None,
            "customer_fullname": o.get("name"),
            "customer_tel": o.get("tel"),
            "address": ", ".join(str(part) for part in where if part and part != "Khác"),
            "storage_day": 0,
            "ship_money": self.fee,
            "insurance": self.insurance_fee,
            "value": o.get("value", 0),
            "weight": self.weight_g(),
            "pick_money": self.pick_money,
            "is_freeship": o.get("is_freeship", 0),
            "products": [
                {
                    "full_name": p.get("name"),
                    "product_code": p.get("product_code", ""),
                    "weight": p.get("weight"),
                    "quantity": p.get("quantity", 1),
                    "cost": p.get("price", 0),
                }
                for p in self.products
            ],
        }


def total_weight_g(order: dict[str, Any], products: list[dict[str, Any]]) -> int:
    if isinstance(order.get("total_weight"), int | float):
        return round(order["total_weight"] * 1000)
    return round(sum(float(p["weight"]) * int(p.get("quantity", 1)) for p in products) * 1000)


def validate_create(body: Any, *, require_district: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The order and products of a create body, or FakeError as GHTK would answer."""
    order = body.get("order") if isinstance(body, dict) else None
    if not isinstance(order, dict):
        raise FakeError(422, "Thiếu thông tin đơn hàng (order)", MISSING_ORDER)
    if len(str(order.get("id", ""))) >= 250:  # §2.1: "order.id ≥250 chars" is refused
        raise FakeError(422, "Mã đơn hàng (order.id) phải ít hơn 250 ký tự", ID_TOO_LONG)
    products = body.get("products")
    weighed = isinstance(products, list) and products and all(_weighed(p) for p in products)
    if not weighed:
        raise FakeError(422, "Thiếu thông tin khối lượng đơn hàng (products, weight)", MISSING_WEIGHT)
    if order.get("transport", "road") not in ("road", "fly"):
        raise FakeError(422, "Phương thức vận chuyển (transport) chỉ nhận road hoặc fly", BAD_TRANSPORT)
    required = REQUIRED + (("pick_district", "district") if require_district else ())
    for name in required:
        if order.get(name) in (None, ""):
            raise FakeError(422, f"Thiếu thông tin bắt buộc: {name}", FIELD_REQUIRED)
    for name in ("tel", "pick_tel"):
        if not _TEL.fullmatch(str(order[name])):
            raise FakeError(422, f"Số điện thoại {name} không hợp lệ: {order[name]}", BAD_TEL)
    tags = order.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, int) for tag in tags):
        raise FakeError(422, "Tags (order.tags) phải là danh sách số", FIELD_REQUIRED)
    if not isinstance(order["pick_money"], int) or order["pick_money"] < 0:
        raise FakeError(422, "Tiền thu hộ (pick_money) không hợp lệ", FIELD_REQUIRED)
    return order, products


def _weighed(product: Any) -> bool:
    weight = product.get("weight") if isinstance(product, dict) else None
    return isinstance(weight, int | float) and not isinstance(weight, bool) and weight > 0


def fee_for(pick_province: str, province: str, weight_g: int, value: int, tags: set[int]) -> dict[str, Any]:
    """A deterministic stand-in for GHTK's tariff: distance, weight steps, insurance and §2.2's tag surcharges."""
    same = pick_province.strip().casefold() == province.strip().casefold()
    fee = (22_000 if same else 30_000) + 2_500 * math.ceil(max(0, weight_g - 500) / 500)
    if tags & PARTIAL_TAGS:
        fee += 5_000 if same else fee // 2
    insurance = value * 5 // 1000 if value > 1_000_000 else 0
    return {
        "name": "area1" if same else "area2",
        "fee": fee,
        "insurance_fee": insurance,
        "include_vat": 0,
        "cost_id": 0,
        "delivery_type": "",
        "delivery": True,
        "extFees": [],
    }
