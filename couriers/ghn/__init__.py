"""GHN (Giao Hàng Nhanh): the adapter, its status table and webhook parsing; the fake lives in couriers.ghn.fake."""

from couriers.ghn.adapter import DEV_BASE_URL, PROD_BASE_URL, GhnConfig, GhnCourier

__all__ = ["DEV_BASE_URL", "PROD_BASE_URL", "GhnConfig", "GhnCourier"]
