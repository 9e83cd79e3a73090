"""GHN (Giao Hàng Nhanh): the adapter, its status table and webhook parsing; its test fake is fakes.ghn."""

from couriers.ghn.adapter import DEV_BASE_URL, PROD_BASE_URL, GhnConfig, GhnCourier

__all__ = ["DEV_BASE_URL", "PROD_BASE_URL", "GhnConfig", "GhnCourier"]
