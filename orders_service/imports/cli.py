"""`orders-service import products|customers FILE.csv`: a progress bar, the rows that failed, a summary.

Exit status: 0 when every row was imported (or skipped, as a Shopee template's label rows are), 1 when any row
failed (each is printed with its line: fix them and import the file again; rows already imported are updated,
not doubled), 2 when the command cannot start as asked (no such file, a wrong option, a header that fits no
format). Each wrong start is one line on stderr.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

FORMATS = ("ours", "sapo", "kiotviet", "shopee")


class _CannotStart(click.ClickException):
    exit_code = 2


class _OneLineCommand(click.Command):
    """Click's usage errors print the usage and a hint around the error; here the error alone, on one line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _CannotStart(f"{ctx.command_path}: {error.format_message()}") from None


class _OneLineGroup(click.Group):
    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            raise _CannotStart(f"{ctx.command_path}: {error.format_message()} (products or customers)") from None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help:
            raise _CannotStart(f"{ctx.command_path}: say what to import: products FILE.csv or customers FILE.csv")
        return super().parse_args(ctx, args)


@click.group(
    "import",
    cls=_OneLineGroup,
    help="Import products or customers from a CSV: ours, or an export of Sapo, KiotViet or Shopee (docs/imports.md).",
)
def import_group() -> None:
    """Import commands."""


def _command(kind: str, what: str) -> click.Command:
    @import_group.command(kind, cls=_OneLineCommand, help=what)
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
    @click.option(
        "--format", "layout", type=click.Choice(FORMATS), default=None, help="[default: told from the header]"
    )
    @click.option("--quiet", is_flag=True, help="no progress bar (it goes to stderr, and only on a terminal)")
    def run(file: Path, layout: str | None, quiet: bool) -> None:
        raise SystemExit(asyncio.run(_run(kind, file, layout, quiet)))

    return run


_command("products", "Import products from FILE.csv (a row per variant); each product is created or updated by SKU.")
_command("customers", "Import customers from FILE.csv, merged into the profile that has one of their phones.")


async def _run(kind: str, file: Path, layout: str | None, quiet: bool) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from orders_service.cli import _migrate, _settings
    from orders_service.db.engine import create_engine
    from orders_service.domain.errors import InvalidField
    from orders_service.imports.formats import Kind, detect
    from orders_service.imports.reader import CsvFile
    from orders_service.imports.schemas import RowResult
    from orders_service.imports.services import IMPORTERS, import_csv

    try:  # the header first: a file we cannot read is one line and status 2, before any database work
        with file.open("rb") as raw:
            detect(IMPORTERS[Kind(kind)].layouts, CsvFile(raw).header, layout)
    except InvalidField as error:
        raise _CannotStart(f"{file}: {error.message}") from None
    settings = _settings()
    await asyncio.to_thread(_migrate, settings)
    engine = create_engine(settings)
    stderr = Console(stderr=True)
    progress = Progress(
        TextColumn(f"importing {kind}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeRemainingColumn(),
        console=stderr,
        disable=quiet,
        transient=True,
    )
    size = (await asyncio.to_thread(file.stat)).st_size
    task = progress.add_task(kind, total=size, rows=0)

    def report(result: RowResult) -> None:
        if result.status == "error":
            where = f" [{result.field}]" if result.field else ""
            progress.console.print(
                f"line {result.line}: error{where}: {result.message}", highlight=False, markup=False, soft_wrap=True
            )

    def advance(done: int, rows: int) -> None:
        progress.update(task, completed=done, rows=rows)

    try:
        with progress, file.open("rb") as raw:
            binding, totals = await import_csv(
                async_sessionmaker(engine, expire_on_commit=False),
                Kind(kind),
                raw,
                layout=layout,
                on_result=report,
                on_progress=advance,
            )
    except InvalidField as error:
        raise _CannotStart(f"{file}: {error.message}") from None
    finally:
        await engine.dispose()
    click.echo(
        f"{file}: {binding.layout.title} format, {totals.rows} rows: {totals.created} created, "
        f"{totals.updated} updated, {totals.unchanged} unchanged, {totals.skipped} skipped, {totals.errors} failed"
    )
    return 1 if totals.errors else 0
