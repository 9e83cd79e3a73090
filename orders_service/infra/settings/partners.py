"""Settings for the outside world: courier accounts, message providers and their rules, and the test suite."""

from __future__ import annotations

from couriers.ahamove.adapter import V1_PRODUCTION as AHAMOVE_V1_LIVE_URL
from couriers.ahamove.adapter import V1_STAGING as AHAMOVE_V1_TEST_URL
from couriers.ahamove.adapter import V3_PRODUCTION as AHAMOVE_LIVE_URL
from couriers.ahamove.adapter import V3_STAGING as AHAMOVE_TEST_URL
from couriers.ghn.adapter import DEV_BASE_URL as GHN_TEST_URL
from couriers.ghn.adapter import PROD_BASE_URL as GHN_LIVE_URL
from couriers.ghtk.adapter import PRODUCTION as GHTK_LIVE_URL
from couriers.ghtk.adapter import STAGING as GHTK_TEST_URL
from couriers.viettelpost.adapter import DEVELOPMENT as VTP_TEST_URL
from couriers.viettelpost.adapter import PRODUCTION as VTP_LIVE_URL
from notifications.providers.sms_gateway import ESMS_URL
from notifications.providers.zns import ZNS_URL
from notifications.templates import DEFAULT_LOCALE, LOCALES
from orders_service.infra.settings.declared import API, SANDBOX, SERVICE, TESTS, WORKER, Group, Var

ADDRESS_MODES = ("two_level", "district")
ADDRESS_MODE = (
    "How a new courier order names the address: `two_level` (2025 ward and province names) or `district` (the "
    "courier's own ids from the address map, for accounts still addressed by district)."
)
OWN_TIMEOUT = "`ORDERS_COURIER_TIMEOUT_S`"

# One declaration a few lines long, read as a table: the formatter would spread each over eight.
# fmt: off
COURIERS = Group(
    "Couriers",
    "A courier is used when its token is set; an admin's account saved in the dashboard overrides these values "
    "one by one. The base URLs default to the couriers' live hosts: point them at a test host on purpose. Every "
    "process that calls couriers reads them: the API, and the workers at scale.",
    (
        Var("ORDERS_GHN_TOKEN", "text", "", "The shop's GHN API token; unset: no GHN.", SERVICE, secret=True),
        Var("ORDERS_GHN_SHOP_ID", "integer", "", "The shop id (`ShopId`) of the GHN account.", SERVICE),
        Var("ORDERS_GHN_WEBHOOK_SECRET", "text", "",
            "The `?token=` of the webhook URL registered with GHN: a webhook without it is refused.", SERVICE,
            secret=True),
        Var("ORDERS_GHN_BASE_URL", "url", GHN_LIVE_URL,
            f"GHN's API; GHN's test host is `{GHN_TEST_URL}`.", SERVICE),
        Var("ORDERS_GHN_ADDRESS_MODE", "choice", "two_level", ADDRESS_MODE, SERVICE, choices=ADDRESS_MODES),
        Var("ORDERS_GHN_UPDATE_ADDRESS", "choice", "ids",
            "How an address change reaches GHN: `ids` (`to_district_id` + `to_ward_code`, the fields GHN documents "
            "for updates) or `names` (ward and province names, which GHN's update may or may not take).",
            SERVICE, choices=("ids", "names")),
        Var("ORDERS_GHN_TIMEOUT_S", "seconds", "", "One GHN call's time limit, if not the couriers' common one.",
            SERVICE, default_note=OWN_TIMEOUT),
        Var("ORDERS_GHTK_TOKEN", "text", "", "The shop's GHTK API token; unset: no GHTK.", SERVICE, secret=True),
        Var("ORDERS_GHTK_PARTNER_CODE", "text", "", "The GHTK partner code, sent as `X-Client-Source`.", SERVICE),
        Var("ORDERS_GHTK_WEBHOOK_SECRET", "text", "",
            "The `?hash=` of the callback URL registered with GHTK: a webhook without it is refused.", SERVICE,
            secret=True),
        Var("ORDERS_GHTK_BASE_URL", "url", GHTK_LIVE_URL,
            f"GHTK's API; GHTK's staging host is `{GHTK_TEST_URL}`.", SERVICE),
        Var("ORDERS_GHTK_ADDRESS_MODE", "choice", "two_level", ADDRESS_MODE, SERVICE, choices=ADDRESS_MODES),
        Var("ORDERS_GHTK_TIMEOUT_S", "seconds", "", "One GHTK call's time limit, if not the couriers' common one.",
            SERVICE, default_note=OWN_TIMEOUT),
        Var("ORDERS_VIETTELPOST_TOKEN", "text", "",
            "The Viettel Post customer account's long-lived token (`/v2/user/ownerConnect`); unset, with no "
            "username either: no Viettel Post.", SERVICE, secret=True),
        Var("ORDERS_VIETTELPOST_USERNAME", "text", "",
            "Instead of a token: the account to log in with (`/v2/user/Login`), again whenever VTP refuses the "
            "token.", SERVICE),
        Var("ORDERS_VIETTELPOST_PASSWORD", "text", "", "The password of that account.", SERVICE, secret=True),
        Var("ORDERS_VIETTELPOST_WEBHOOK_SECRET", "text", "",
            "The `TOKEN` agreed with Viettel Post for the webhook body: a webhook without it is refused.", SERVICE,
            secret=True),
        Var("ORDERS_VIETTELPOST_BASE_URL", "url", VTP_LIVE_URL,
            f"Viettel Post's partner API; its development host is `{VTP_TEST_URL}`.", SERVICE),
        Var("ORDERS_VIETTELPOST_GROUPADDRESS_ID", "integer", "0",
            "The sender store registered with Viettel Post (`groupaddressId` of `/v2/user/listInventory`).", SERVICE),
        Var("ORDERS_VIETTELPOST_CUS_ID", "integer", "0", "The customer id (`cusId`) of that store.", SERVICE),
        Var("ORDERS_VIETTELPOST_SENDER_UNITS", "province,district,ward", "0,0,0",
            "Viettel Post's own province, district and ward ids of the warehouse (VTP still addresses by district; "
            "recipients' come from the address map).", SERVICE),
        Var("ORDERS_VIETTELPOST_SERVICE", "text", "VCN",
            "The `ORDER_SERVICE` orders are created and priced with (as `/v2/categories/listService` lists them).",
            SERVICE),
        Var("ORDERS_VIETTELPOST_TIMEOUT_S", "seconds", "",
            "One Viettel Post call's time limit, if not the couriers' common one.", SERVICE, default_note=OWN_TIMEOUT),
        Var("ORDERS_AHAMOVE_TOKEN", "text", "",
            "The Ahamove account's token (from onboarding, valid a year); unset: no Ahamove.", SERVICE, secret=True),
        Var("ORDERS_AHAMOVE_WEBHOOK_SECRET", "text", "",
            "What the auth header registered with Ahamove carries (for `basic`: `user:password`): a webhook "
            "without it is refused.", SERVICE, secret=True),
        Var("ORDERS_AHAMOVE_WEBHOOK_AUTH", "choice", "apikey",
            "The webhook auth method registered with Ahamove: an API-key header, `Authorization: Bearer`, or "
            "`Authorization: Basic`.", SERVICE, choices=("apikey", "bearer", "basic")),
        Var("ORDERS_AHAMOVE_WEBHOOK_HEADER", "text", "apikey", "The header of the `apikey` method.", SERVICE),
        Var("ORDERS_AHAMOVE_BASE_URL", "url", AHAMOVE_LIVE_URL,
            f"Ahamove's v3 API (create, estimate, read, amend); staging is `{AHAMOVE_TEST_URL}`.", SERVICE),
        Var("ORDERS_AHAMOVE_V1_BASE_URL", "url", AHAMOVE_V1_LIVE_URL,
            f"Ahamove's v1 API (cancel); staging is `{AHAMOVE_V1_TEST_URL}`.", SERVICE),
        Var("ORDERS_AHAMOVE_SERVICES", "list of province:service_id", "79:SGN-BIKE,1:HAN-BIKE",
            "The cities served same day (2025 province codes) and the service used in each; an OnWheel service "
            "(`VNM-PARTNER-...`) also lets COD and address change once.", SERVICE),
        Var("ORDERS_AHAMOVE_CANCEL_CODE", "text", "OTHER",
            "The `cancel_code` sent with a cancel (required once a driver accepted; Ahamove lists the codes).",
            SERVICE),
        Var("ORDERS_AHAMOVE_TIMEOUT_S", "seconds", "",
            "One Ahamove call's time limit, if not the couriers' common one.", SERVICE, default_note=OWN_TIMEOUT),
        Var("ORDERS_SANDBOX", "choice", "on",
            "`off`: no sandbox courier (nothing at `/sandbox-courier`, `sandbox-courier` refuses to start, no "
            "order ships with `sandbox`), for a shop with only real courier accounts.",
            (API, WORKER, SANDBOX), choices=("on", "off")),
        Var("ORDERS_SANDBOX_TOKEN", "text", "",
            "The sandbox courier's API token; set it (and the webhook secret) alike on every process sharing one "
            "sandbox.", (API, WORKER, SANDBOX), secret=True, default_note="made once into the data folder"),
        Var("ORDERS_SANDBOX_WEBHOOK_SECRET", "`whsec_` + base64", "",
            "The sandbox courier's Standard Webhooks secret, shared like its token.", (API, WORKER, SANDBOX),
            secret=True, default_note="made once into the data folder"),
        Var("ORDERS_SANDBOX_BASE_URL", "url", "",
            "A standalone sandbox courier, e.g. `http://127.0.0.1:8090/sandbox-courier`.", SERVICE,
            default_note="unset: the sandbox is served inside the API"),
        Var("ORDERS_SANDBOX_WEBHOOK_URL", "url", "",
            "Where a standalone sandbox courier sends its webhooks.", (SANDBOX,),
            default_note="`$ORDERS_PUBLIC_BASE_URL/webhooks/couriers/sandbox`"),
        Var("ORDERS_SANDBOX_TIMEOUT_S", "seconds", "", "One sandbox call's time limit, if not the common one.",
            SERVICE, default_note=OWN_TIMEOUT),
    ),
)

RULES = Group(
    "Notifications",
    "Messages to customers and staff: which provider each channel uses (`log` writes them to the log and sends "
    "nothing), and when marketing may go. An admin's quiet hours and cap saved in the dashboard override these.",
    (
        Var("ORDERS_NOTIFY_SMS", "choice", "log",
            "SMS: `log`, or `gateway` (eSMS; needs `ORDERS_SMS_API_KEY`, `ORDERS_SMS_SECRET_KEY`, "
            "`ORDERS_SMS_BRANDNAME`).", SERVICE, choices=("log", "gateway")),
        Var("ORDERS_NOTIFY_ZALO", "choice", "log",
            "Zalo: `log`, or `zns` (Zalo Notification Service; needs `ORDERS_ZNS_ACCESS_TOKEN`).", SERVICE,
            choices=("log", "zns")),
        Var("ORDERS_NOTIFY_EMAIL", "choice", "log",
            "Email: `log`, or `smtp` (needs `ORDERS_SMTP_HOST`, `ORDERS_SMTP_FROM`).", SERVICE,
            choices=("log", "smtp")),
        Var("ORDERS_NOTIFY_CHANNELS", "list", "zalo,sms,email",
            "The channels a message tries, in order, among those the customer can be reached on.", SERVICE),
        Var("ORDERS_QUIET_HOURS", "HH:MM-HH:MM", "07:00-22:00",
            "When marketing messages may go out, local time; order messages always go.", SERVICE),
        Var("ORDERS_MARKETING_CAP", "integer, 0 none", "3", "Marketing messages one phone gets per day at most.",
            SERVICE),
        Var("ORDERS_NOTIFY_TZ", "IANA time zone", "Asia/Ho_Chi_Minh",
            "The shop's time zone: of the quiet hours, the daily cap and the `birthday_this_month` segment.", SERVICE),
        Var("ORDERS_NOTIFY_LOCALE", "choice", DEFAULT_LOCALE, "The language of the messages' templates.", SERVICE,
            choices=LOCALES),
        Var("ORDERS_STAFF_NOTIFY", "list of emails or phones", "",
            "Staff who hear about refused courier changes and failed courier syncs.", SERVICE,
            default_note="nobody"),
        Var("ORDERS_NOTIFY_MAX_ATTEMPTS", "integer ≥ 1", "5",
            "Transient provider failures before a message is recorded as failed.", SERVICE),
        Var("ORDERS_CAMPAIGN_BATCH", "integer ≥ 1", "100",
            "Campaign members queued per transaction, and how many sends may wait before a campaign pauses: it "
            "bounds how long an amendment's courier sync waits behind a campaign.", SERVICE),
    ),
)

PROVIDERS = Group(
    "Message providers",
    "Read only by the provider chosen above; the workers send at scale, the API process when embedded.",
    (
        Var("ORDERS_SMS_API_KEY", "text", "", "The eSMS API key.", SERVICE, secret=True),
        Var("ORDERS_SMS_SECRET_KEY", "text", "", "The eSMS secret key.", SERVICE, secret=True),
        Var("ORDERS_SMS_BRANDNAME", "text", "", "The registered brand name SMS are sent under.", SERVICE),
        Var("ORDERS_SMS_URL", "url", ESMS_URL, "eSMS's send endpoint.", SERVICE),
        Var("ORDERS_SMS_TIMEOUT_S", "seconds", "10", "One SMS send's time limit.", SERVICE),
        Var("ORDERS_ZNS_ACCESS_TOKEN", "text", "", "The Zalo Official Account's access token.", SERVICE, secret=True),
        Var("ORDERS_ZNS_TEMPLATES", "list of template:id", "",
            "Our template names and the ZNS template id approved for each, e.g. `shipped:123456`.", SERVICE),
        Var("ORDERS_ZNS_URL", "url", ZNS_URL, "ZNS's send endpoint.", SERVICE),
        Var("ORDERS_ZNS_TIMEOUT_S", "seconds", "10", "One ZNS send's time limit.", SERVICE),
        Var("ORDERS_SMTP_HOST", "text", "", "The SMTP server.", SERVICE),
        Var("ORDERS_SMTP_PORT", "integer", "587", "The SMTP server's port.", SERVICE),
        Var("ORDERS_SMTP_USER", "text", "", "The SMTP login, if the server wants one.", SERVICE),
        Var("ORDERS_SMTP_PASSWORD", "text", "", "The SMTP password.", SERVICE, secret=True),
        Var("ORDERS_SMTP_FROM", "email", "", "The sender address of emails.", SERVICE),
        Var("ORDERS_SMTP_STARTTLS", "true or false", "true", "Whether to upgrade the connection with STARTTLS.",
            SERVICE),
        Var("ORDERS_SMTP_TIMEOUT_S", "seconds", "10", "One email send's time limit.", SERVICE),
    ),
)

TEST_SUITE = Group(
    "The test suite",
    "Read by the tests only (`./dev test` sets the first two from `deploy/postgres.sh` and `deploy/redis.sh`).",
    (
        Var("ORDERS_TEST_PG_URL", "url", "",
            "A PostgreSQL server the tests may create databases on; unset: the PostgreSQL tests are skipped.",
            (TESTS,), secret=True),
        Var("ORDERS_TEST_REDIS_URL", "url", "", "A Redis the Celery tests may use; unset: they are skipped.",
            (TESTS,)),
        Var("ORDERS_TEST_CHROMIUM", "path", "/usr/bin/chromium", "The Chromium the browser tests drive.", (TESTS,)),
    ),
)
# fmt: on

GROUPS = (COURIERS, RULES, PROVIDERS, TEST_SUITE)
