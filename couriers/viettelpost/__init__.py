"""Viettel Post (partner API v2): the adapter, its status table and webhook parsing; its test fake is
fakes.viettelpost."""

from couriers.viettelpost.adapter import DEVELOPMENT, PRODUCTION, VtpConfig, VtpCourier
from couriers.viettelpost.statuses import STATUSES, status_for

__all__ = ["DEVELOPMENT", "PRODUCTION", "STATUSES", "VtpConfig", "VtpCourier", "status_for"]
