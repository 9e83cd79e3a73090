"""GHTK (Giao Hàng Tiết Kiệm): the adapter; its fake server, for tests, is fakes.ghtk."""

from couriers.ghtk.adapter import STAGING, GhtkConfig, GhtkCourier
from couriers.ghtk.statuses import STATUSES, status_for

__all__ = ["STAGING", "STATUSES", "GhtkConfig", "GhtkCourier", "status_for"]
