"""The fake GHN's orders and rules: validation, the statuses each amend call accepts, and the webhooks raised."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from couriers.ghn.statuses import AMENDABLE, BEFORE_PICKUP, STATUSES, label

# The documented message for an unknown order (couriers.md §1.1) and the per-item batch refusal (§1.1).
NOT_FOUND = "Lỗi gọi API: corev2_tenant_order_detail - code=404, message=Đơn hàng không tồn tại"
INVALID_STATUS = "Trạng thái đơn hàng không hợp lệ"
REQUIRED_NOTES = frozenset({"CHOTHUHANG", "CHOXEMHANGKHONGTHU", "KHONGCHOXEMHANG"})
# National form only: mobile 03/05/07/08/09 + 8 digits, landline 02 + 9 digits.
VN_PHONE = re.compile(r"0[35789]\d{8}|02\d{9}")
# What shipping-order/update takes (couriers.md §1.5, GHN-75); other keys are ignored, as GHN ignores them.
UPDATABLE = frozenset(
    {
        "to_name", "to_phone", "to_address", "to_ward_code", "to_district_id",
        "cod_amount", "content", "weight", "length", "width", "height", "insurance_value", "payment_type_id",
        "note", "required_note", "items",
    }
)  # fmt: skip
# The create doc's address names: whether update takes them too is unconfirmed (a switch of the fake).
ADDRESS_NAMES = frozenset({"to_ward_name", "to_province_name"})
# GHN's FAQ (couriers.md §1.5): required_note, recipient name, recipient phone and the delivery address are limited.
RECIPIENT_GROUP = {"required_note": "required_note", "to_name": "to_name", "to_phone": "to_phone"}
RECIPIENT_GROUP |= dict.fromkeys(("to_address", "to_ward_code", "to_district_id", *ADDRESS_NAMES), "address")


class GhnError(Exception):
    """A refusal rendered as GHN's error envelope."""

    def __init__(self, message: str, *, status_code: int = 400, code_message: str = "USER_ERR_COMMON") -> None:
        super().__init__(message)
        self.message, self.status_code, self.code_message = message, status_code, code_message


@dataclass
class FakeOrder:
    order_code: str
    shop_id: int
    client_order_code: str
    fields: dict[str, Any]  # the create body, as amended since
    total_fee: int
    status: str = "ready_to_pick"
    is_partial_return: bool = False
    partial_return_code: str = ""
    log: list[dict[str, Any]] = field(default_factory=list)
    recipient_changes: list[frozenset[str]] = field(default_factory=list)  # per accepted update, what it changed

    @property
    def buyer_pays(self) -> int:
        """What GHN collects at the door: the COD, plus GHN's own fee when the buyer pays it (payment_type_id 2)."""
        fee = self.total_fee if self.fields.get("payment_type_id") == 2 else 0
        return int(self.fields.get("cod_amount", 0)) + fee

    def detail(self) -> dict[str, Any]:
        return {
            **self.fields,
            "order_code": self.order_code,
            "client_order_code": self.client_order_code,
            "shop_id": self.shop_id,
            "status": self.status,
            "is_partial_return": self.is_partial_return,
            "partial_return_code": self.partial_return_code,
            "total_fee": self.total_fee,
            "log": list(self.log),
        }


class OrderBook:
    def __init__(
        self,
        *,
        require_district: bool,
        cod_limit: int,
        insurance_limit: int,
        max_weight_g: int,
        store_province: str,
        store_district_id: int,
        clock: Callable[[], datetime.datetime],
        recipient_changes: int | None = 2,
        recipient_fields: int | None = None,
        update_takes_names: bool = False,
    ) -> None:
        self.require_district, self.cod_limit, self.insurance_limit = require_district, cod_limit, insurance_limit
        # The FAQ's limits on the recipient group (None: no limit): how many updates may change it, and how many
        # of its fields may change over the order's life. The FAQ reads "at most 2 of them, once"; the issue
        # that reproduced it on a GHN server saw "at most twice". Both are settings.
        self.recipient_changes, self.recipient_fields = recipient_changes, recipient_fields
        self.update_takes_names = update_takes_names
        self.max_weight_g, self.store_province, self.store_district_id = max_weight_g, store_province, store_district_id
        self.clock = clock
        self.orders: dict[str, FakeOrder] = {}
        self.webhooks: list[dict[str, Any]] = []  # waiting for deliver_webhooks
        self._by_client: dict[tuple[int, str], str] = {}
        self._seq = 0

    def create(self, shop_id: int, body: dict[str, Any]) -> dict[str, Any]:
        self._check_create(body)
        client_code = str(body.get("client_order_code") or "")
        if client_code and (shop_id, client_code) in self._by_client:
            raise GhnError(f"Mã đơn hàng {client_code} (client_order_code) đã tồn tại")
        fields = {key: value for key, value in body.items() if key != "client_order_code"}
        order = FakeOrder(self._next_code(), shop_id, client_code, fields, self.fee_of(body))
        self.orders[order.order_code] = order
        if client_code:
            self._by_client[shop_id, client_code] = order.order_code
        self._changed(order, "create")
        fee = {"main_service": order.total_fee, "insurance": 0, "cod_fee": 0, "station_do": 0, "station_pu": 0}
        delivery = self.clock() + datetime.timedelta(days=3)
        return {
            "order_code": order.order_code,
            "sort_code": "40-G-33-A1",
            "trans_type": "truck",
            "fee": fee | {"return": 0, "r2s": 0, "coupon": 0},
            "total_fee": order.total_fee,
            "expected_delivery_time": delivery.astimezone(datetime.UTC).strftime("%Y-%m-%dT23:59:59Z"),
        }

    def find(self, order_code: object, shop_id: int | None = None) -> FakeOrder:
        order = self.orders.get(str(order_code))
        if order is None or (shop_id is not None and order.shop_id != shop_id):
            raise GhnError(NOT_FOUND)
        return order

    def detail(self, shop_id: int | None, body: dict[str, Any]) -> dict[str, Any]:
        return self.find(body.get("order_code"), shop_id).detail()

    def detail_by_client_code(self, shop_id: int | None, body: dict[str, Any]) -> dict[str, Any]:
        client_code = str(body.get("client_order_code") or "")
        for (owner, code), order_code in self._by_client.items():
            if code == client_code and shop_id in (None, owner):
                return self.orders[order_code].detail()
        raise GhnError(NOT_FOUND)

    def update(self, shop_id: int | None, body: dict[str, Any]) -> None:
        order = self.find(body.get("order_code"), shop_id)
        if order.status not in AMENDABLE:
            raise GhnError(f"{INVALID_STATUS}: đơn hàng đang ở trạng thái {order.status}, không thể cập nhật")
        updatable = UPDATABLE | ADDRESS_NAMES if self.update_takes_names else UPDATABLE
        changes = {key: value for key, value in body.items() if key in updatable}
        self._check_recipient_rule(order, changes)
        if "items" in changes and order.status not in BEFORE_PICKUP:
            raise GhnError(f"{INVALID_STATUS}: không thể cập nhật hàng hóa sau khi đã lấy hàng ({order.status})")
        if "to_phone" in changes:
            _check_phone(changes["to_phone"])
        if "items" in changes:
            _check_items(changes["items"])
        self._check_amounts(changes, weight_required=False)
        touched = _recipient_group(order, changes)
        if touched:
            order.recipient_changes.append(touched)
        order.fields.update(changes)
        order.total_fee = self.fee_of(order.fields)  # GHN re-prices an amended order

    def _check_recipient_rule(self, order: FakeOrder, changes: dict[str, Any]) -> None:
        touched = _recipient_group(order, changes)
        if not touched:
            return
        if self.recipient_changes is not None and len(order.recipient_changes) >= self.recipient_changes:
            raise GhnError(
                f"Đơn hàng đã thay đổi thông tin người nhận {len(order.recipient_changes)} lần, "
                f"tối đa {self.recipient_changes} lần"
            )
        changed = frozenset().union(*order.recipient_changes, touched)
        if self.recipient_fields is not None and len(changed) > self.recipient_fields:
            raise GhnError(f"Chỉ được thay đổi tối đa {self.recipient_fields} thông tin người nhận")
        if "address" in touched and order.fields.get("payment_type_id") == 2:
            raise GhnError("Không thể thay đổi địa chỉ giao hàng khi người nhận trả phí vận chuyển")

    def update_cod(self, shop_id: int | None, body: dict[str, Any]) -> None:
        order = self.find(body.get("order_code"), shop_id)
        if order.status not in AMENDABLE:
            raise GhnError(f"{INVALID_STATUS}: không thể cập nhật tiền thu hộ ở trạng thái {order.status}")
        if "cod_amount" not in body:
            raise GhnError("cod_amount là bắt buộc")
        self._check_amounts({"cod_amount": body["cod_amount"]}, weight_required=False)
        order.fields["cod_amount"] = body["cod_amount"]
        self._changed(order, "update_cod")

    def cancel(self, shop_id: int | None, body: dict[str, Any]) -> list[dict[str, Any]]:
        codes = body.get("order_codes")
        if not isinstance(codes, list) or not codes:
            raise GhnError("order_codes là bắt buộc")
        results = []
        for code in codes:
            order = self.orders.get(str(code))
            if order is None or order.shop_id != shop_id:
                results.append({"order_code": code, "result": False, "message": "Đơn hàng không tồn tại"})
            elif order.status not in BEFORE_PICKUP:  # [G] the doc names no statuses; GHN cancels before pickup
                results.append({"order_code": code, "result": False, "message": INVALID_STATUS})
            else:
                order.status = "cancel"
                self._changed(order, "switch_status")
                results.append({"order_code": code, "result": True, "message": "OK"})
        return results

    def fee(self, shop_id: int | None, body: dict[str, Any]) -> dict[str, Any]:
        self._check_address(body)
        self._check_amounts({"weight": body.get("weight"), "insurance_value": body.get("insurance_value", 0)})
        total = self.fee_of(body)
        return {"total": total, "service_fee": total, "insurance_fee": 0, "pick_station_fee": 0, "coupon_value": 0}

    def leadtime(self, shop_id: int | None, body: dict[str, Any]) -> dict[str, int]:
        """couriers.md section 1.2: `{leadtime, order_date}` in unix seconds for a route and a service."""
        self._check_address(body)
        if not (_is_int(body.get("service_id")) or _is_int(body.get("service_type_id"))):
            raise GhnError("service_id là bắt buộc")
        # Deterministic, like the fee: the next day within a province, three days across provinces.
        order_date = self.clock()
        days = 3 if self._inter_province(body) else 1
        return {
            "leadtime": int((order_date + datetime.timedelta(days=days)).timestamp()),
            "order_date": int(order_date.timestamp()),
        }

    def fee_of(self, body: dict[str, Any]) -> int:
        """Deterministic: a base per zone, then 2,500 VND per started 500 g above the first 500 g."""
        extra_steps = -(-max(0, int(body.get("weight") or 0) - 500) // 500)
        return (30_000 if self._inter_province(body) else 16_500) + 2_500 * extra_steps

    def set_status(self, order_code: str, status: str, *, partial: bool = False, cod: int | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"not a GHN status: {status!r}")
        order = self.find(order_code)
        order.status = status
        if partial and not order.is_partial_return:
            # The part the buyer refused travels back under a new order code (couriers.md §1.8).
            back = FakeOrder(self._next_code(), order.shop_id, "", dict(order.fields), 0, status="return")
            self.orders[back.order_code] = back
            order.is_partial_return, order.partial_return_code = True, back.order_code
        self._changed(order, "switch_status", cod=cod)

    def _changed(self, order: FakeOrder, kind: str, *, cod: int | None = None) -> None:
        now = self.clock().astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        order.log.append({"status": order.status, "updated_date": now})
        fields = order.fields
        fee = {"MainService": order.total_fee, "Insurance": 0, "CODFee": 0, "Coupon": 0, "Total": order.total_fee}
        self.webhooks.append(
            {
                "CODAmount": fields.get("cod_amount", 0) if cod is None else cod,
                "CODTransferDate": None,
                "ClientOrderCode": order.client_order_code,
                "ConvertedWeight": fields.get("weight", 0),
                "Description": label(order.status),
                "Fee": fee,
                "Height": fields.get("height", 0),
                "IsPartialReturn": order.is_partial_return,
                "Length": fields.get("length", 0),
                "OrderCode": order.order_code,
                "PartialReturnCode": order.partial_return_code,
                "PaymentType": fields.get("payment_type_id", 1),
                "Reason": "",
                "ReasonCode": "",
                "ShopID": order.shop_id,
                "Status": order.status,
                "Time": now,
                "TotalFee": order.total_fee,
                "Type": kind,
                "Warehouse": "",
                "Weight": fields.get("weight", 0),
                "Width": fields.get("width", 0),
            }
        )

    def _next_code(self) -> str:
        self._seq += 1
        return f"GF{self._seq:06X}"  # GHN codes are 8 upper-case characters, e.g. G8ADKBRF

    def _inter_province(self, body: dict[str, Any]) -> bool:
        to_province = body.get("to_province_name")
        if to_province:
            return _folded(to_province) != _folded(body.get("from_province_name") or self.store_province)
        # District ids: without master data the fake counts another district as another zone.
        return body.get("to_district_id") != (body.get("from_district_id") or self.store_district_id)

    def _check_create(self, body: dict[str, Any]) -> None:
        for name in ("to_name", "to_address"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip() or len(value) > 1024:
                raise GhnError(f"{name} là bắt buộc (tối đa 1024 ký tự)")
        _check_phone(body.get("to_phone"))
        if body.get("required_note") not in REQUIRED_NOTES:
            raise GhnError(f"required_note phải là một trong {', '.join(sorted(REQUIRED_NOTES))}")
        if body.get("payment_type_id") not in (1, 2):
            raise GhnError("payment_type_id phải là 1 hoặc 2")
        if not body.get("service_type_id") and not body.get("service_id"):
            raise GhnError("service_type_id hoặc service_id là bắt buộc")
        self._check_address(body)
        self._check_amounts(body)
        _check_items(body.get("items"))

    def _check_address(self, body: dict[str, Any]) -> None:
        by_ids = body.get("to_district_id") and body.get("to_ward_code")
        if self.require_district and not by_ids:
            raise GhnError("to_district_id và to_ward_code là bắt buộc")
        if not by_ids and not (body.get("to_ward_name") and body.get("to_province_name")):
            raise GhnError("Thiếu địa chỉ người nhận: to_ward_name và to_province_name là bắt buộc")

    def _check_amounts(self, body: dict[str, Any], *, weight_required: bool = True) -> None:
        if weight_required or "weight" in body:
            weight = body.get("weight")
            if not _is_int(weight) or not 0 < weight <= self.max_weight_g:
                raise GhnError(f"weight phải từ 1 đến {self.max_weight_g} gram")
        for name, limit in (("cod_amount", self.cod_limit), ("insurance_value", self.insurance_limit)):
            value = body.get(name, 0)
            if not _is_int(value) or not 0 <= value <= limit:
                raise GhnError(f"{name} phải từ 0 đến {limit:,} VNĐ".replace(",", "."))


def _recipient_group(order: FakeOrder, changes: dict[str, Any]) -> frozenset[str]:
    """Which of the FAQ's limited fields (the address counts once) `changes` gives a new value."""
    return frozenset(
        RECIPIENT_GROUP[key]
        for key, value in changes.items()
        if key in RECIPIENT_GROUP and order.fields.get(key) != value
    )


def _check_phone(phone: object) -> None:
    if not isinstance(phone, str) or not VN_PHONE.fullmatch(phone):
        raise GhnError(f"Số điện thoại người nhận không hợp lệ: {phone}")


def _check_items(items: object) -> None:
    if not isinstance(items, list) or not items:
        raise GhnError("items là bắt buộc")
    for item in items:
        if not isinstance(item, dict) or not item.get("name") or not _is_int(item.get("quantity")):
            raise GhnError("Mỗi sản phẩm cần name và quantity")
        if item["quantity"] <= 0:
            raise GhnError(f"Số lượng sản phẩm {item['name']} không hợp lệ")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _folded(name: object) -> str:
    return unicodedata.normalize("NFC", str(name)).casefold().strip()
