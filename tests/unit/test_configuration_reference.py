"""docs/configuration.md is generated from the declared settings, and no setting is read without a declaration."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from orders_service.cli import main
from orders_service.infra.settings import DECLARED, Undeclared
from orders_service.infra.settings.docs import COMMAND, PATH, render
from orders_service.infra.settings.registry import read

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("orders_service", "couriers", "notifications", "deploy")
# A name, not a family: ORDERS_GHN_ (a prefix), ORDERS_{...}, ORDERS_<COURIER>_... and ORDERS_SANDBOX_* are skipped.
NAME = re.compile(r"\b(?:ORDERS_[A-Z0-9_]+|DATABASE_URL|PROMETHEUS_MULTIPROC_DIR)(?![A-Za-z0-9_{<*])")


def _files(*folders: str) -> list[Path]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".png", ".json"}:
                found.append(path)
    return found


def test_the_committed_reference_is_the_generated_one() -> None:
    committed = ROOT / PATH
    assert committed.exists(), f"{PATH} is missing: run `{COMMAND}` and commit it"
    assert committed.read_text(encoding="utf-8") == render(), (
        f"{PATH} differs from the declared settings (orders_service/infra/settings): run `{COMMAND}` and commit it"
    )


def test_every_variable_the_code_names_is_declared() -> None:
    undeclared = {}
    for path in [*_files(*SCANNED), ROOT / "README.md"]:
        for name in NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
            if not name.endswith("_") and name not in DECLARED:
                undeclared.setdefault(name, str(path.relative_to(ROOT)))
    assert not undeclared, f"declare these in orders_service/infra/settings, then run `{COMMAND}`: {undeclared}"


def test_only_the_settings_read_the_environment() -> None:
    """Anything else reading os.environ could read a variable no declaration (and so no document) knows of."""
    readers = []
    for path in (p for p in _files("orders_service", "couriers", "notifications") if p.suffix == ".py"):
        if path.is_relative_to(ROOT / "orders_service/infra/settings"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not readers, f"read these through orders_service.infra.settings.Settings instead: {readers}"


def test_an_undeclared_variable_cannot_be_read() -> None:
    with pytest.raises(Undeclared, match="ORDERS_NOT_A_SETTING is read but not declared"):
        read({"ORDERS_NOT_A_SETTING": "1"}).get("ORDERS_NOT_A_SETTING")


def test_each_declaration_says_what_a_reference_needs() -> None:
    for var in DECLARED.values():
        assert var.meaning.endswith(".") and var.readers and var.kind, var.name
        if var.choices and not var.default_note:
            assert var.default in var.choices, var.name


def test_config_docs_writes_the_reference_and_check_names_the_command(tmp_path: Path) -> None:
    target = tmp_path / "configuration.md"
    runner = CliRunner()
    stale = runner.invoke(main, ["config", "docs", "--check", "--output", str(target)])
    assert stale.exit_code == 1 and f"run `{COMMAND}`" in stale.output
    written = runner.invoke(main, ["config", "docs", "--output", str(target)])
    assert written.exit_code == 0 and target.read_text(encoding="utf-8") == render()
    fresh = runner.invoke(main, ["config", "docs", "--check", "--output", str(target)])
    assert fresh.exit_code == 0, fresh.output
