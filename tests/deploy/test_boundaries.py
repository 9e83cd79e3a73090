"""The package's boundaries: what the wheel a production install gets holds, and the import contracts that keep
test doubles out of production code and the domain free of everything outside it (pyproject [tool.importlinter]).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"orders_service", "couriers", "notifications"}
# What the build reads: everything else (the virtualenv, build output, caches) stays behind.
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "node_modules")


def _build_wheel(into: Path) -> Path:
    """Build the wheel as a release would, from a copy, so the build's own files never land in the checkout."""
    source = into / "source"
    shutil.copytree(ROOT, source, ignore=SKIP)
    out = into / "dist"
    # pip where the virtualenv has it; uv where it was made by uv (which installs no pip).
    if importlib.util.find_spec("pip") is not None:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)]
    elif uv := next(
        (c for c in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools/bin/uv")) if c and Path(c).is_file()),
        None,
    ):
        # ./dev puts uv in .tools/ when the machine has none on its PATH.
        command = [uv, "build", "--wheel", "-q", "-o", str(out), str(source)]
    else:
        pytest.fail("neither pip nor uv is there to build the wheel with")
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    [wheel] = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    with zipfile.ZipFile(_build_wheel(tmp_path_factory.mktemp("wheel"))) as wheel:
        return wheel.namelist()


def test_the_wheel_holds_no_fake(wheel_files: list[str]) -> None:
    fakes = [name for name in wheel_files if any(part.startswith("fake") for part in name.split("/"))]
    assert fakes == []
    assert "couriers/sandbox/testing.py" not in wheel_files  # the sandbox's test helpers moved to fakes/sandbox.py


def test_the_wheel_holds_the_production_packages_only(wheel_files: list[str]) -> None:
    top = {name.split("/")[0] for name in wheel_files if not name.split("/")[0].endswith(".dist-info")}
    assert top == PRODUCTION
    # The service itself is there, with the adapters the fakes stand in for.
    for module in ("orders_service/app.py", "couriers/ghn/adapter.py", "couriers/ghtk/adapter.py"):
        assert module in wheel_files


@pytest.fixture(scope="module")
def contracts() -> str:
    """lint-imports' report on this checkout (first on the path: the virtualenv may hold another editable one)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    answer = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return " ".join(answer.stdout.split())  # lint-imports wraps long contract names


@pytest.mark.parametrize(
    "contract",
    [
        "orders_service, couriers and notifications never import the fakes",
        "the domain imports nothing outside orders_service.domain",
    ],
)
def test_import_contract_is_kept(contracts: str, contract: str) -> None:
    assert f"{contract} KEPT" in contracts, contracts[-3000:]
