"""GHTK (Giao Hàng Tiết Kiệm): the adapter; its fake server lives in couriers.ghtk.fake, for tests."""

from couriers.ghtk.adapter import STAGING, GhtkConfig, GhtkCourier
from couriers.ghtk.statuses import STATUSES, status_for

__all__ = ["STAGING", "STATUSES", "GhtkConfig", "GhtkCourier", "status_for"]
