"""The fake Viettel Post's rules: create validation, the price table and the orders it holds (couriers.md §3)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

# [G] §3.3 lists the fields; which are required is not documented. These are the ones no VTP order can lack.
REQUIRED = (
    "ORDER_NUMBER", "SENDER_FULLNAME", "SENDER_ADDRESS", "SENDER_PHONE", "SENDER_PROVINCE", "SENDER_DISTRICT",
    "RECEIVER_FULLNAME", "RECEIVER_ADDRESS", "RECEIVER_PHONE", "RECEIVER_PROVINCE", "RECEIVER_DISTRICT",
    "PRODUCT_NAME", "PRODUCT_WEIGHT", "ORDER_PAYMENT", "ORDER_SERVICE",
)  # fmt: skip
PRICE_REQUIRED = ("SENDER_PROVINCE", "SENDER_DISTRICT", "RECEIVER_PROVINCE", "RECEIVER_DISTRICT", "PRODUCT_WEIGHT")
SERVICES = frozenset({"VCN", "LCOD", "VTK", "SCOD"})
_PHONE = re.compile(r"0\d{9}")


class VtpError(Exception):
    """A refusal in VTP's envelope: `{"status": ..., "error": true, "message": ...}` (§3.1)."""

    def __init__(self, message: str, status: int = 400, http_status: int = 200) -> None:
        super().__init__(message)
        self.message, self.status, self.http_status = message, status, http_status

    def body(self) -> dict[str, Any]:
        return {"status": self.status, "error": True, "message": self.message, "data": None}


@dataclass
class FakeOrder:
    waybill: str
    fields: dict[str, Any]
    status: int
    price: dict[str, int]
    history: list[int] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return str(self.fields["ORDER_NUMBER"])

    @property
    def buyer_pays(self) -> int:
        """What the postman collects, by ORDER_PAYMENT (§3.3): nothing, goods + fee, goods only, the fee only."""
        money, fee = int(self.fields.get("MONEY_COLLECTION") or 0), self.price["MONEY_TOTAL"]
        return {1: 0, 2: money + fee, 3: money, 4: fee}[int(self.fields["ORDER_PAYMENT"])]


def _whole(value: Any, name: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise VtpError(f"{name} không hợp lệ: {value!r}")
    return value


def validate_create(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise VtpError("Dữ liệu đơn hàng không hợp lệ")
    for name in REQUIRED:
        if body.get(name) in (None, ""):
            raise VtpError(f"Thiếu thông tin bắt buộc: {name}")
    for name in ("SENDER_PHONE", "RECEIVER_PHONE"):
        if not _PHONE.fullmatch(str(body[name])):
            raise VtpError(f"Số điện thoại không hợp lệ ({name}): {body[name]}")
    for name in ("SENDER_PROVINCE", "SENDER_DISTRICT", "RECEIVER_PROVINCE", "RECEIVER_DISTRICT"):
        _whole(body[name], name, low=1)
    if body.get("ORDER_PAYMENT") not in (1, 2, 3, 4):
        raise VtpError(f"ORDER_PAYMENT phải là 1, 2, 3 hoặc 4, không phải {body.get('ORDER_PAYMENT')!r}")
    _whole(body["PRODUCT_WEIGHT"], "PRODUCT_WEIGHT", low=1)
    money = _whole(body.get("MONEY_COLLECTION", 0), "MONEY_COLLECTION")
    if body["ORDER_PAYMENT"] in (2, 3) and money == 0:
        raise VtpError("Tiền thu hộ (MONEY_COLLECTION) phải lớn hơn 0 với ORDER_PAYMENT 2 hoặc 3")
    if body["ORDER_SERVICE"] not in SERVICES:
        raise VtpError(f"Dịch vụ {body['ORDER_SERVICE']} không tồn tại")
    return body


def validate_price(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise VtpError("Dữ liệu không hợp lệ")
    for name in PRICE_REQUIRED:
        _whole(body.get(name), name, low=1)
    _whole(body.get("MONEY_COLLECTION", 0), "MONEY_COLLECTION")
    return body


def price(body: dict[str, Any]) -> dict[str, int]:
    """A deterministic stand-in for VTP's tariff: the route, 500 g steps, a COD fee and VAT, in §3.3's fields."""
    same = body["SENDER_PROVINCE"] == body["RECEIVER_PROVINCE"]
    fee = (20_000 if same else 32_000) + 5_000 * math.ceil(max(0, int(body["PRODUCT_WEIGHT"]) - 500) / 500)
    cod_fee = int(body.get("MONEY_COLLECTION") or 0) // 100
    vat = (fee + cod_fee) // 10
    return {
        "MONEY_FEE": fee,
        "MONEY_COLLECTION_FEE": cod_fee,
        "MONEY_OTHER_FEE": 0,
        "MONEY_VAT": vat,
        "MONEY_TOTAL_FEE": fee + cod_fee,
        "MONEY_TOTAL": fee + cod_fee + vat,
        "KPI_HT": 24 if same else 72,
        "EXCHANGE_WEIGHT": int(body["PRODUCT_WEIGHT"]),
    }
