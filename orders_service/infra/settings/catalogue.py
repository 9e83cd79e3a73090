"""The service's own settings: server and storage, the shop, the relay, edit links, loyalty, logs and metrics."""

from __future__ import annotations

from orders_service.infra.settings.declared import API, BEAT, EVERY, SANDBOX, SERVICE, WORKER, Group, Var
from orders_service.loyalty.tiers import DEFAULT_TIERS, DOWNGRADE_RULES

# One declaration a few lines long, read as a table: the formatter would spread each over eight.
# fmt: off
SERVER = Group(
    "Server and storage",
    "Where the service keeps its data and where it listens. Every process reads the database.",
    (
        Var("DATABASE_URL", "url", "",
            "The database: SQLite by default; `postgresql://user:pass@host/db` (or `postgres://`) uses PostgreSQL "
            "through asyncpg, as every process of a deployment at scale must.",
            EVERY, secret=True, default_note="`sqlite+aiosqlite:///$ORDERS_DATA_DIR/orders.db`"),
        Var("ORDERS_DATA_DIR", "path", "data",
            "The folder for the SQLite file (created 0600, owner only) and the secrets made on first start "
            "(`secret_key`, the sandbox's `secrets.json`); relative paths start at the working directory.",
            EVERY),
        Var("ORDERS_HOST", "text", "127.0.0.1", "The interface `serve` listens on (`--host` overrides it).", (API,)),
        Var("ORDERS_PORT", "integer", "8000", "The port `serve` listens on (`--port` overrides it).", (API,)),
        Var("ORDERS_PUBLIC_BASE_URL", "url", "",
            "The address customers and couriers reach the API at: the start of edit links and message links, the "
            "default sandbox webhook target, and https here makes the dashboard's cookie Secure. Unset, the "
            "address `serve` listens on (`--host`/`--port`, or ORDERS_HOST and ORDERS_PORT; a wildcard host as "
            "127.0.0.1). Admins may set the one links and messages use in the dashboard (Settings, The shop).",
            (API, WORKER, SANDBOX), default_note="`http://$ORDERS_HOST:$ORDERS_PORT`"),
        Var("ORDERS_SQLITE_SYNCHRONOUS", "FULL or NORMAL", "FULL",
            "SQLite's `synchronous`: `FULL` keeps every acknowledged change across a power loss, `NORMAL` is "
            "faster but may lose the last commits; PostgreSQL ignores it.",
            EVERY),
        Var("ORDERS_SECRET_KEY", "text, 32+ characters", "",
            "Signs the dashboard's CSRF tokens; set the same one on every API process (unset: one is made into "
            "`$ORDERS_DATA_DIR/secret_key` on first start).",
            (API,), secret=True, default_note="made once into `$ORDERS_DATA_DIR/secret_key`"),
        Var("ORDERS_TRUSTED_PROXIES", "list of IPs or CIDRs", "",
            "Reverse proxies whose `X-Forwarded-For` names the client (e.g. `10.0.0.0/8`), believed by uvicorn and "
            "the edit-link rate limits; from anyone else the header is ignored, so a client cannot choose the "
            "address it is counted under.",
            (API, SANDBOX), default_note="none"),
    ),
)

SHOP = Group(
    "The shop",
    "Who sends the parcels, as the couriers see it. The warehouse is a 2025 province code and ward code.",
    (
        Var("ORDERS_SHOP_NAME", "text", "Cửa hàng",
            "The shop's name: the sender on courier orders, in messages and on the customer's page (admins may "
            "set the one messages and the page show in the dashboard).", SERVICE),
        Var("ORDERS_SHOP_PHONE", "phone", "+842838221234",
            "The shop's phone: the one couriers call, and the one customers see on their page (dashboard too).",
            SERVICE),
        Var("ORDERS_SHOP_ADDRESS", "text", "1 Lê Lợi",
            "The street line of the warehouse couriers pick up at; with its ward and province, the address "
            "customers see on their page unless an admin set another in the dashboard.", SERVICE),
        Var("ORDERS_WAREHOUSE_PROVINCE", "integer", "79",
            "The warehouse's province code (79: Hồ Chí Minh City); orders show their zone and distance from it.",
            SERVICE),
        Var("ORDERS_WAREHOUSE_WARD", "integer", "26743", "The warehouse's ward code, within that province.", SERVICE),
        Var("ORDERS_SPLIT_FEE", "choice", "quote",
            "The shipping fee of each part of a split order when not given: `quote` (its courier's quote, else the "
            "original's fee), `same` (the original's fee again) or `shop` (the shop pays the extra parcels).",
            (API,), choices=("quote", "same", "shop")),
        Var("ORDERS_SHIP_RULE", "choice", "cheapest",
            "Which courier ships an order when staff name none: `cheapest` or `fastest` of the quotes, or one "
            "courier by name; a shop setting in the dashboard overrides it.",
            (API,), choices=("cheapest", "fastest", "sandbox", "ghn", "ghtk", "viettelpost", "ahamove")),
        Var("ORDERS_EDIT_WINDOW_MINUTES", "integer", "0",
            "How long a new order waits before it goes to its courier, counted from its creation or from the "
            "customer's last change through her link, so that most changes come before any courier order exists; "
            "a ship asked sooner is scheduled (`ship_at`) and staff can send it at once. 0: no wait. A shop setting "
            "in the dashboard overrides it.",
            (API, WORKER)),
        Var("ORDERS_RETURN_WINDOW_DAYS", "integer", "7",
            "How many days after delivery a customer may ask to return some of what she kept (her link's page, "
            "or staff through `POST /api/orders/{id}/return-requests`), counted from the moment the order became "
            "delivered; 0: no return requests.",
            (API,)),
        Var("ORDERS_QUOTE_TIMEOUT_S", "seconds", "5",
            "How long `GET /api/orders/{id}/quotes` (and a ship that picks by rule) waits for all couriers "
            "together; one that has not answered by then is listed unavailable.",
            (API,)),
    ),
)

RELAY = Group(
    "Outbox relay and workers",
    "Courier calls and messages leave through the outbox, handled by the relay: inside the API process by "
    "default, by Celery workers at scale. The timings form a chain checked at start: a courier call ends before "
    "the next lease renewal, two renewals fit in a lease, a handler's deadline is above every courier timeout, "
    "and the watchdog waits longer than the deadline.",
    (
        Var("ORDERS_RELAY", "choice", "embedded",
            "Who runs the outbox relay: `embedded` (the API process), `celery` (workers and beat), `off` (nobody).",
            (API, WORKER, BEAT), choices=("embedded", "celery", "off")),
        Var("ORDERS_BROKER_URL", "url", "redis://127.0.0.1:6379/0",
            "Celery's broker (Redis), shared by the API, the workers and beat when `ORDERS_RELAY=celery`; also the "
            "shared store of the edit-link rate limits then.",
            (API, WORKER, BEAT), secret=True),
        Var("ORDERS_CELERY_QUEUE", "text", "orders-service", "The Celery queue the API, workers and beat share.",
            (API, WORKER, BEAT)),
        Var("ORDERS_RELAY_BACKOFF_S", "seconds", "1.0",
            "A failed message's first retry comes after half to all of this, doubling up to 10 minutes.", SERVICE),
        Var("ORDERS_RELAY_LEASE_S", "seconds", "30",
            "How long a claimed outbox message stays with a worker that died mid-task before another takes it; a "
            "live worker renews it while it works.", SERVICE),
        Var("ORDERS_SYNC_LEASE_S", "seconds", "30",
            "The same for a shipment being synced with its courier.", SERVICE),
        Var("ORDERS_LEASE_RENEW_S", "seconds", "10",
            "How often a live worker renews its leases: at least twice per lease, and above every courier "
            "timeout.", SERVICE),
        Var("ORDERS_COURIER_TIMEOUT_S", "seconds", "8",
            "The whole time one courier call may take (connecting, waiting for a connection, reading the answer), "
            "below `ORDERS_LEASE_RENEW_S`; a call past it fails its message only, which is retried.", SERVICE),
        Var("ORDERS_COURIER_MAX_IN_FLIGHT", "integer ≥ 1", "4",
            "Calls one process makes to one courier at once, so that a courier that hangs holds no more of the "
            "relay than this.", SERVICE),
        Var("ORDERS_RELAY_CONCURRENCY", "integer ≥ 1", "8",
            "Outbox messages (of different orders) one relay process handles at once.", SERVICE),
        Var("ORDERS_RELAY_THREAD", "choice", "off",
            "`on`: the embedded relay claims and settles on a thread of its own, with its own event loop and "
            "database connections, so that requests cannot starve its database work (its courier and message "
            "calls still run on the API's loop; about 5 ms more CPU per courier create); `off`: in the API's "
            "event loop.",
            (API,), choices=("on", "off")),
        Var("ORDERS_RELAY_DEADLINE_S", "seconds", "60",
            "The most one handler (a courier sync with all its calls, a message send) may take before it is cut "
            "off and its message retried.", SERVICE),
        Var("ORDERS_RELAY_WATCHDOG_S", "seconds", "120",
            "A relay that records no outcome for this long while work is due is restarted, logged and counted "
            "(`orders_relay_restarts_total`).", SERVICE),
        Var("ORDERS_RELAY_MAX_ATTEMPTS", "integer ≥ 1", "15",
            "Failed attempts (about an hour with the backoff) before a message is dead-lettered: kept for staff in "
            "`/dashboard/queues`, no longer retried.", SERVICE),
        Var("ORDERS_RECONCILE_S", "seconds, 0 off", "600",
            "Every this many seconds, read every parcel not yet final from its courier (a webhook may never come); "
            "`0` turns it off. A job in the API process when embedded, a beat schedule with Celery.",
            (API, BEAT)),
    ),
)

LINKS = Group(
    "Customers' edit links",
    "The links a customer opens to change her own order (`/o/...`).",
    (
        Var("ORDERS_LINK_TTL_HOURS", "integer ≥ 1", "48",
            "How long a new edit link works, unless the request that makes it asks for another lifetime.", (API,)),
        Var("ORDERS_LINK_TOKEN_LIMIT", "integer ≥ 1", "60",
            "Requests one edit link may make per window before it gets 429.", (API,)),
        Var("ORDERS_LINK_CLIENT_LIMIT", "integer ≥ 1", "120",
            "Requests one client address may make to edit links per window, whichever links it tries.", (API,)),
        Var("ORDERS_LINK_RATE_WINDOW_S", "seconds ≥ 1", "60", "The window those two limits count in.", (API,)),
        Var("ORDERS_RATE_LIMIT_STORE", "choice", "",
            "Where the limits are counted: `memory` (this process only: one API process) or `redis` (in "
            "`ORDERS_BROKER_URL`, shared by every API process).",
            (API,), choices=("memory", "redis"), default_note="`memory`; `redis` when `ORDERS_RELAY=celery`"),
    ),
)

LOYALTY = Group(
    "Loyalty",
    "The environment's loyalty program; an admin's values saved in the dashboard override it.",
    (
        Var("ORDERS_TIERS", "tier list", DEFAULT_TIERS,
            "Tiers lowest first, `code:percent:min_spend_vnd:min_completed_orders`; the first is everyone's.",
            SERVICE),
        Var("ORDERS_VND_PER_POINT", "integer ≥ 1", "10000", "VND of net spend that earn one loyalty point.",
            SERVICE),
        Var("ORDERS_VND_PER_REDEEMED_POINT", "integer ≥ 1", "1000", "VND a redeemed point takes off an order's COD.",
            SERVICE),
        Var("ORDERS_POINTS_EXPIRE_DAYS", "integer, 0 never", "365", "Days after which earned points expire.",
            SERVICE),
        Var("ORDERS_TIER_DOWNGRADE", "choice", "never",
            "When a customer whose spend fell (a return) loses a tier: `never`, `review` (at her review date), "
            "`immediate`.", SERVICE, choices=DOWNGRADE_RULES),
        Var("ORDERS_TIER_REVIEW_DAYS", "integer ≥ 1", "365",
            "A tier's review date, counted from when it was reached (with `ORDERS_TIER_DOWNGRADE=review`).",
            SERVICE),
    ),
)

COD = Group(
    "COD statements",
    "Couriers' statements of the COD they collected (`POST /api/cod-statements`, `/dashboard/cod`).",
    (
        Var("ORDERS_COD_STATEMENT_DAYS", "integer ≥ 1", "7",
            "Days after delivery an order may wait for a courier's statement before it is in the dashboard's work "
            "queue of orders no statement has listed.", (API,)),
        Var("ORDERS_COD_COLUMNS", "list of courier.field=title|title", "",
            "Column titles of GHN's and GHTK's statement exports beyond those built in (GHN's and GHTK's own "
            "export titles are not published), e.g. `ghn.tracking_code=Mã vận đơn;ghtk.fee=Tổng cước`; the fields "
            "are `tracking_code`, `cod_collected`, `fee`.", (API,), default_note="none"),
    ),
)

OPERATIONS = Group(
    "Logs and metrics",
    "",
    (
        Var("ORDERS_LOG_FORMAT", "choice", "",
            "`json`: one object per line (`ts`, `level`, `logger`, `message`, and `request_id`, `order_id`, "
            "`task_id` when known), for collectors; `text`: for people.",
            EVERY, choices=("json", "text"), default_note="`text` on a terminal, else `json`"),
        Var("ORDERS_LOG_LEVEL", "choice", "info", "The least severe level logged.", EVERY,
            choices=("debug", "info", "warning", "error")),
        Var("PROMETHEUS_MULTIPROC_DIR", "path", "",
            "An empty folder shared by every process of one host (uvicorn workers, Celery children), read by "
            "prometheus_client too: `/metrics` and `worker --metrics-port` then add them all up.",
            (API, WORKER), default_note="unset: each process counts alone"),
    ),
)
# fmt: on

GROUPS = (SERVER, SHOP, RELAY, LINKS, LOYALTY, COD, OPERATIONS)
