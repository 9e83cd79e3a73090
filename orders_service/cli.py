"""The `orders-service` command: serve, worker, beat, db upgrade, keys create, users create, import."""

from __future__ import annotations

import asyncio
import logging
import sys

import click

from orders_service.imports.cli import import_group
from orders_service.infra.settings import Settings, listen_at


def _logging(settings: Settings) -> None:
    from orders_service.ops.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)


def _settings() -> Settings:
    """The settings from the environment; a wrong value is one clear line, not a traceback."""
    try:
        return Settings.from_env()
    except ValueError as error:
        raise click.ClickException(f"configuration: {error}") from None


@click.group(help="orders-service: amend, merge, split and ship COD orders for Vietnamese shops.")
def main() -> None:
    """Entry point."""


class _Port(click.ParamType):
    """A TCP port, with a plainer complaint than click's IntRange ("'abc' is not a valid integer range")."""

    name = "port"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isdigit() and 1 <= int(text) <= 65535:
            return int(text)
        self.fail(f"{value!r} is not a port: give a number from 1 to 65535", param, ctx)


@main.command(help="Apply migrations, then serve the API (embedded default: SQLite under ./data).")
@click.option("--host", default=None, help="interface to listen on [default: 127.0.0.1]")
@click.option("--port", default=None, type=_Port(), help="port [default: 8000]")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="server processes")
@click.option("--access-log/--no-access-log", default=False, show_default=True, help="uvicorn's access log too")
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="apply migrations first (replicas at scale: --no-migrate, and run `orders-service migrate` once)",
)
def serve(host: str | None, port: int | None, workers: int, access_log: bool, migrate: bool) -> None:
    import uvicorn

    from orders_service.ops.clients import TrustedProxies

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    _check_can_listen(host, port)  # before any work: no migration, no data folder, for a port that is taken
    listen_at(host, port)  # the app's processes read their settings again: links follow --host/--port
    _logging(settings)
    if migrate:
        _migrate(settings)
    logging.getLogger("orders_service.cli").info("database: %s", _safe_url(settings.database_url))
    uvicorn.run(
        "orders_service.asgi:app",
        host=host,
        port=port,
        workers=workers,
        # Our middleware writes one access line per request, with its id; uvicorn's loggers (its own access log
        # too, with --access-log) go to our handlers, each behind RedactFilter.
        access_log=access_log,
        log_config=None,
        log_level=settings.log_level.lower(),
        # X-Forwarded-For only from ORDERS_TRUSTED_PROXIES (uvicorn's default believes anyone on 127.0.0.1).
        **TrustedProxies(settings.trusted_proxies).uvicorn_options(),
    )


class _CannotListen(click.ClickException):
    """One line on stderr and exit status 2, as click gives a wrong option: the command cannot start as asked."""

    exit_code = 2


def _check_can_listen(host: str, port: int) -> None:
    """Bind and release (host, port) as uvicorn will, so that a port in use is one clear line, not a traceback
    after the migrations. `./dev serve` makes the same check before installing anything."""
    import errno
    import socket

    # uvicorn's own choice of family, and its SO_REUSEADDR: a TIME_WAIT leftover is no obstacle, a listener is.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise _CannotListen(
                    f"port {port} on {host} is already in use: stop what listens there, or pick another with --port N"
                ) from None
            raise _CannotListen(f"cannot listen on {host} port {port}: {error.strerror}") from None


@main.command(help="Run a Celery worker: the outbox relay's handlers at scale (needs ORDERS_BROKER_URL).")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 64), help="worker processes")
@click.option("--loglevel", default="INFO", show_default=True, type=click.Choice(["DEBUG", "INFO", "WARNING"]))
@click.option(
    "--metrics-port",
    default=None,
    type=click.IntRange(1, 65535),
    help="serve Prometheus metrics of every worker process here (needs PROMETHEUS_MULTIPROC_DIR)",
)
@click.option("--name", default="worker", show_default=True, help="node name, unique per host (worker-2, ...)")
def worker(concurrency: int, loglevel: str, metrics_port: int | None, name: str) -> None:
    from orders_service.relay.celery_app import app

    if metrics_port is not None:
        _serve_worker_metrics(metrics_port)
    args = [f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--pool=prefork", f"--hostname={name}@%h"]
    app.worker_main(["worker", *args])


@main.command(help="Run Celery beat, the one scheduler: relay safety net every second, courier reconciliation.")
@click.option("--loglevel", default="INFO", show_default=True, type=click.Choice(["DEBUG", "INFO", "WARNING"]))
def beat(loglevel: str) -> None:
    from orders_service.relay.celery_app import app

    settings = _settings()
    schedule = settings.data_dir / "celerybeat-schedule"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule}"])


def _serve_worker_metrics(port: int) -> None:
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    if not _settings().multiproc_dir:
        raise click.BadParameter("set PROMETHEUS_MULTIPROC_DIR to an empty folder first", param_hint="--metrics-port")
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    start_http_server(port, registry=registry)


@main.command(help="Apply the migrations up to the latest (a one-shot job before the API and workers start).")
def migrate() -> None:
    settings = _settings()
    _logging(settings)
    _migrate(settings)
    click.echo(f"database at head: {_safe_url(settings.database_url)}")


@main.command("sandbox-courier", help="Serve the sandbox courier alone, for several API processes to share.")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to listen on")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(1, 65535), help="port")
def sandbox_courier(host: str, port: int) -> None:
    import uvicorn

    from couriers.sandbox import standalone_app
    from orders_service.infra.runtime import standalone_sandbox
    from orders_service.ops.clients import TrustedProxies

    settings = _settings()
    if not settings.sandbox:
        raise click.ClickException("configuration: ORDERS_SANDBOX=off, the sandbox courier is turned off")
    _logging(settings)
    proxies = TrustedProxies(settings.trusted_proxies).uvicorn_options()
    app = standalone_app(standalone_sandbox(settings))
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, **proxies)


@main.group(help="Database commands.")
def db() -> None:
    """Database commands."""


@db.command("upgrade", help="Apply the migrations up to REVISION (default: the latest).")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    settings = _settings()
    _migrate(settings, revision)
    click.echo(f"database at {revision}: {_safe_url(settings.database_url)}")


@main.group(help="API keys for staff and integrations.")
def keys() -> None:
    """API key commands."""


@keys.command("create", help="Create an API key; the key is printed alone on the last line.")
@click.option("--name", required=True, help="who or what uses the key, e.g. 'lan-phone' or 'website'")
@click.option("--role", required=True, type=click.Choice(["staff", "admin"]), help="what the key may do")
def keys_create(name: str, role: str) -> None:
    from orders_service.auth.services import Role

    name = name.strip()
    if not name or len(name) > 64:
        raise click.BadParameter("give a name of 1 to 64 characters", param_hint="--name")
    key = asyncio.run(_create_key(name, Role(role)))
    click.echo(f"created {role} key {name!r}; it is shown only now:", err=True)
    click.echo(key)


async def _create_key(name: str, role: object) -> str:
    from sqlalchemy.ext.asyncio import AsyncSession

    from orders_service.auth.services import Role, create_key
    from orders_service.db.engine import create_engine

    settings = _settings()
    await asyncio.to_thread(_migrate, settings)
    engine = create_engine(settings)
    try:
        async with AsyncSession(engine) as session, session.begin():
            _, key = await create_key(session, name, Role(str(role)))
    finally:
        await engine.dispose()
    return key


@main.group(help="Staff users who sign in to the dashboard at /dashboard.")
def users() -> None:
    """Staff user commands."""


@users.command("create", help="Create a dashboard user; without --password, it is asked for twice.")
@click.option("--username", required=True, help="2-64 characters: lower-case letters, digits, . _ -")
@click.option("--role", required=True, type=click.Choice(["staff", "admin"]), help="admin may change settings")
@click.option("--password", default=None, help="at least 10 characters [default: prompted, not echoed]")
def users_create(username: str, role: str, password: str | None) -> None:
    from orders_service.dashboard.users import check_password, check_username
    from orders_service.domain.errors import InvalidField

    try:
        name = check_username(username)
    except InvalidField as error:
        raise click.BadParameter(error.message, param_hint="--username") from None
    if password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        check_password(password)
    except InvalidField as error:
        raise click.BadParameter(error.message, param_hint="--password") from None
    asyncio.run(_create_user(name, role, password))
    click.echo(f"created {role} user {name!r}; sign in at /dashboard/login")


async def _create_user(username: str, role: str, password: str) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    from orders_service.dashboard.users import Role, create_user
    from orders_service.db.engine import create_engine
    from orders_service.domain.errors import InvalidField

    settings = _settings()
    await asyncio.to_thread(_migrate, settings)
    engine = create_engine(settings)
    try:
        async with AsyncSession(engine) as session, session.begin():
            await create_user(session, username, Role(role), password)
    except InvalidField as error:
        raise click.BadParameter(error.message, param_hint=f"--{error.field}") from None
    finally:
        await engine.dispose()


def _migrate(settings: Settings, revision: str = "head") -> None:
    """Apply migrations, or stop with one clear line (no traceback) when the database cannot be used."""
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    from orders_service.db.migrate import upgrade

    try:
        upgrade(settings, revision)
    except CommandError as error:
        raise click.BadParameter(str(error), param_hint="REVISION") from None
    except (OSError, DBAPIError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise click.ClickException(f"cannot use the database {_safe_url(settings.database_url)}: {reason}") from None


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.group(help="The configuration: every environment variable the service reads, declared in one place.")
def config() -> None:
    """Configuration commands."""


@config.command("docs", help="Write docs/configuration.md from the declared settings (--check: only compare).")
@click.option("--output", default="docs/configuration.md", show_default=True, type=click.Path(dir_okay=False))
@click.option("--check", is_flag=True, help="write nothing; exit 1 if the file differs from the declarations")
def config_docs(output: str, check: bool) -> None:
    from pathlib import Path

    from orders_service.infra.settings.docs import COMMAND, render

    path, text = Path(output), render()
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{output} is out of date with the declared settings: run `{COMMAND}`")
        click.echo(f"{output} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")


main.add_command(import_group)

if __name__ == "__main__":
    sys.exit(main())
