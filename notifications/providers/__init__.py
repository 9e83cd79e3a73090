"""Providers: one class per way of sending, behind the `Provider` protocol, each with a fake in fakes.notifications."""

from notifications.providers.base import (
    OutboundMessage,
    PermanentProviderError,
    Provider,
    ProviderError,
    Receipt,
    TransientProviderError,
    Undeliverable,
)
from notifications.providers.log import LogProvider
from notifications.providers.sms_gateway import SmsGateway, SmsGatewayConfig
from notifications.providers.smtp import SmtpConfig, SmtpProvider
from notifications.providers.zns import ZnsConfig, ZnsProvider

__all__ = [
    "LogProvider",
    "OutboundMessage",
    "PermanentProviderError",
    "Provider",
    "ProviderError",
    "Receipt",
    "SmsGateway",
    "SmsGatewayConfig",
    "SmtpConfig",
    "SmtpProvider",
    "TransientProviderError",
    "Undeliverable",
    "ZnsConfig",
    "ZnsProvider",
]
