"""The settings an admin may change, each group a Struct with its constraints."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from orders_service.domain.model import ONE_LINE
from orders_service.loyalty.tiers import DOWNGRADE_RULES

# Sent in HTTP headers (tokens, GHTK's partner code) or put in the URL registered with the courier (webhook
# secrets): visible ASCII only, or every call would fail at the header's encoding long after the form said yes.
VISIBLE_ASCII = r"^[\x21-\x7e]*$"
Secret = Annotated[str, Meta(max_length=200, pattern=VISIBLE_ASCII)]
Clock = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, Vietnam time")]


class LoyaltyRules(Struct, kw_only=True):
    tiers: Annotated[str, Meta(min_length=1, max_length=500, pattern=ONE_LINE)]  # code:percent:min_spend:min_orders,...
    vnd_per_point: Annotated[int, Meta(ge=1, le=10_000_000)]
    vnd_per_redeemed_point: Annotated[int, Meta(ge=1, le=10_000_000)]
    points_expire_days: Annotated[int, Meta(ge=0, le=3650)]
    tier_downgrade: Annotated[str, Meta(pattern="^(" + "|".join(DOWNGRADE_RULES) + ")$")]
    tier_review_days: Annotated[int, Meta(ge=1, le=3650)]


class CourierAccount(Struct, kw_only=True):
    token: Secret = ""
    shop_id: Annotated[str, Meta(max_length=32, pattern=r"^\d*$")] = ""  # GHN's shop id
    partner_code: Annotated[str, Meta(max_length=64, pattern=VISIBLE_ASCII)] = ""  # GHTK's
    webhook_secret: Secret = ""


class NotificationRules(Struct, kw_only=True):
    """When marketing messages may go out, and how many per phone per day (transactional ones always go)."""

    quiet_start: Clock = "22:00"
    quiet_end: Clock = "07:00"
    marketing_cap_per_day: Annotated[int, Meta(ge=0, le=50)] = 3


class ShopContact(Struct, kw_only=True):
    """The shop as its customers know it, on their page and in messages; blank: the environment's value."""

    name: Annotated[str, Meta(max_length=120, pattern=ONE_LINE)] = ""
    phone: Annotated[str, Meta(max_length=32, pattern=ONE_LINE)] = ""  # any Vietnamese form; stored in E.164
    address: Annotated[str, Meta(max_length=300, pattern=ONE_LINE)] = ""
    # Where customers reach the service: links in messages and the staff's new edit links start with it.
    public_url: Annotated[str, Meta(max_length=200, pattern=r"^(https?://[^\s/?#]+(/[^\s?#]*)?)?$")] = ""


SHIP_RULES = ("cheapest", "fastest", "sandbox", "ghn", "ghtk", "viettelpost", "ahamove")


class ShippingRules(Struct, kw_only=True):
    """Which courier ships when staff name none (ORDERS_SHIP_RULE unless saved)."""

    ship_rule: Annotated[str, Meta(pattern="^(" + "|".join(SHIP_RULES) + ")$")] = "cheapest"
    # How long a new order (or one the customer just changed) waits before it goes to the courier.
    edit_window_minutes: Annotated[int, Meta(ge=0, le=7 * 24 * 60)] = 0
