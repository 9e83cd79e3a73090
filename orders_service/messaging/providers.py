"""The provider for each channel, from the settings: log unless a real one is configured."""

from __future__ import annotations

from notifications.policy import Channel
from notifications.providers import (
    LogProvider,
    Provider,
    SmsGateway,
    SmsGatewayConfig,
    SmtpConfig,
    SmtpProvider,
    ZnsConfig,
    ZnsProvider,
)
from notifications.providers.sms_gateway import ESMS_URL
from notifications.providers.zns import ZNS_URL
from orders_service.messaging.config import NotifyConfig


def build_providers(config: NotifyConfig) -> dict[Channel, Provider]:
    """Settings were checked when read (settings._notify): a real provider has what it needs here."""
    providers: dict[Channel, Provider] = {channel: LogProvider(channel) for channel in Channel}
    if config.providers.get("sms") == "gateway":
        sms = config.sms
        providers[Channel.SMS] = SmsGateway(
            SmsGatewayConfig(
                api_key=sms["api_key"],
                secret_key=sms["secret_key"],
                brandname=sms["brandname"],
                url=sms.get("url", ESMS_URL),
                timeout_s=float(sms.get("timeout_s", "10")),
            )
        )
    if config.providers.get("zalo") == "zns":
        zns = config.zns
        providers[Channel.ZALO] = ZnsProvider(
            ZnsConfig(
                access_token=zns["access_token"],
                templates=config.zns_templates,
                url=zns.get("url", ZNS_URL),
                timeout_s=float(zns.get("timeout_s", "10")),
            )
        )
    if config.providers.get("email") == "smtp":
        smtp = config.smtp
        providers[Channel.EMAIL] = SmtpProvider(
            SmtpConfig(
                host=smtp["host"],
                sender=smtp["from"],
                port=int(smtp.get("port", "587")),
                username=smtp.get("user"),
                password=smtp.get("password"),
                starttls=smtp.get("starttls", "true").lower() not in ("0", "false", "no"),
                timeout_s=float(smtp.get("timeout_s", "10")),
            )
        )
    return providers
