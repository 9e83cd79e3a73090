"""scale_bench.py's options, and where the stack runs: ports, folder, database, queue, given servers."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchlib.load import bounded
from benchlib.servers import BENCH_DIR

from scale.faults import FAULTS, SERVER_FAULTS, parse_faults
from scale.stack import API_PORTS, DATABASE, PG_PORT, QUEUE, REDIS_PORT, SANDBOX_PORT, STACK_DIR, StackConfig


def _ports(text: str) -> list[int]:
    try:
        ports = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma list of ports") from None
    if not ports or any(not 1024 <= p <= 65535 for p in ports) or len(set(ports)) != len(ports):
        raise argparse.ArgumentTypeError(f"{text!r}: distinct ports in 1024..65535")
    return ports


def _matching(pattern: str, what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not re.fullmatch(pattern, text):
            raise argparse.ArgumentTypeError(f"{text!r}: {what}")
        return text

    return parse


def _faults(text: str) -> list[str]:
    try:
        return parse_faults(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_args(argv: list[str] | None, description: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    add = parser.add_argument
    add("--seconds", type=bounded(float, 10, 3600), default=60, help="load duration per run (60)")
    add("--rate", type=bounded(float, 0.5, 200), default=10, help="operations started per second (10)")
    add("--faults", type=_faults, default=None, help=f"comma list of {', '.join(FAULTS)} (default: all)")
    add("--skip-embedded", action="store_true", help="only the stack run")
    add("--keep-servers", action="store_true",
        help="leave the stack's PostgreSQL and Redis (with --pg-url/--redis-url: its database and queue)")  # fmt: skip
    add("--results", type=Path, default=BENCH_DIR / "results")
    add("--drain-limit", type=bounded(float, 1, 1800), default=180, help="seconds to wait for the outbox (180)")
    add(
        "--stack-dir",
        type=Path,
        default=None,
        help="the stack's folder ($STACK_DIR, else /tmp/orders-service-stack; with --free-ports a new temp one)",
    )
    add("--free-ports", action="store_true", help="pick free ports for whatever port is not given")
    add("--api-ports", type=_ports, default=None, help="API processes' ports (8001,8002)")
    add("--sandbox-port", type=bounded(int, 1024, 65535), default=None, help="the sandbox courier's (8090)")
    add("--balancer-port", type=bounded(int, 0, 65535), default=0, help="the load balancer's (0: a free one)")
    add("--pg-port", type=bounded(int, 1024, 65535), default=None, help="the stack's own PostgreSQL (54339)")
    add("--redis-port", type=bounded(int, 1024, 65535), default=None, help="the stack's own Redis (56389)")
    add("--workers", type=bounded(int, 1, 8), default=2, help="Celery worker processes (2)")
    add("--pg-url", default=None, help="use this PostgreSQL server (never restarted or stopped) instead of its own")
    add("--redis-url", default=None, help="use this Redis (never restarted or stopped) instead of its own")
    add("--database", type=_matching(r"[a-z_][a-z0-9_]{0,62}", "lower-case letters, digits and _"), default=None,
        help=f"the stack's database ({DATABASE}; with --pg-url orders_scale_<random>)")  # fmt: skip
    add("--queue", type=_matching(r"[A-Za-z0-9._-]{1,100}", "letters, digits, . _ -"), default=None,
        help=f"the Celery queue ({QUEUE}; with --redis-url orders-scale-<random>)")  # fmt: skip
    args = parser.parse_args(argv)
    given = {"restart_redis": args.redis_url, "restart_postgres": args.pg_url}
    if args.faults is None:  # all that this run may play
        args.faults = [f for f in FAULTS if not given.get(f)]
    refused = [f for f in args.faults if given.get(f)]
    if refused:
        servers = " or ".join(SERVER_FAULTS[f] for f in refused)
        parser.error(f"--faults {','.join(refused)}: refused, the bench never restarts a {servers} it was given "
                     "(--pg-url/--redis-url)")  # fmt: skip
    if "kill_api" in args.faults and args.api_ports is not None and len(args.api_ports) < 2:
        parser.error("--faults kill_api needs at least two --api-ports (the balancer sends to the other meanwhile)")
    return args


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: each socket is held until all are bound, so none is handed out twice."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def stack_config(args: argparse.Namespace) -> StackConfig:
    """The stack the options describe; ports left open are picked free with --free-ports, else stack.sh's."""
    spare = free_ports(7) if args.free_ports else []
    if spare and args.balancer_port == 0:  # chosen with the others, so that no API process is given its port
        args.balancer_port = spare.pop()

    def port(value: int | None, default: int) -> int:
        return value if value is not None else (spare.pop() if spare else default)

    if args.stack_dir is not None:
        stack_dir = args.stack_dir
    elif args.free_ports:
        stack_dir = Path(tempfile.mkdtemp(prefix="orders-scale-"))
    else:
        stack_dir = Path(os.environ.get("STACK_DIR", STACK_DIR))
    suffix = secrets.token_hex(4)
    return StackConfig(
        stack_dir=stack_dir.resolve(),
        api_ports=args.api_ports or [port(None, API_PORTS[0]), port(None, API_PORTS[1])],
        sandbox_port=port(args.sandbox_port, SANDBOX_PORT),
        pg_port=port(args.pg_port, PG_PORT),
        redis_port=port(args.redis_port, REDIS_PORT),
        database=args.database or (f"orders_scale_{suffix}" if args.pg_url else DATABASE),
        queue=args.queue or (f"orders-scale-{suffix}" if args.redis_url else QUEUE),
        workers=args.workers,
        pg_url=args.pg_url,
        redis_url=args.redis_url,
        servers_inside=args.free_ports,
    )
