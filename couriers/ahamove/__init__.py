"""Ahamove (on-demand, same day in Hồ Chí Minh and Hà Nội): the adapter, its statuses and webhook parsing; its test
fake is fakes.ahamove."""

from couriers.ahamove.adapter import V1_STAGING, V3_STAGING, AhamoveConfig, AhamoveCourier, parse_services

__all__ = ["V1_STAGING", "V3_STAGING", "AhamoveConfig", "AhamoveCourier", "parse_services"]
