"""The dependency graph is locked in uv.lock, and what `serve` and the image install holds no test tool.

Read from the lock itself (TOML), so these hold for every install made from it: `./dev serve`, the Docker image.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The heavy test tools that made a first `./dev serve` take 93 s (issue 17): never in the runtime graph.
TEST_TOOLS = {"pytest", "playwright", "matplotlib", "schemathesis", "mypy", "flower", "hypothesis", "ruff", "numpy"}


def _lock() -> dict[str, dict[str, Any]]:
    packages = tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    return {package["name"]: package for package in packages}


def _closure(lock: dict[str, dict[str, Any]], roots: list[dict[str, Any]]) -> set[str]:
    """Every package that installing `roots` brings, extras included (litestar[standard] ...), all platforms."""
    seen: set[tuple[str, str]] = set()
    todo = [(dep["name"], extra) for dep in roots for extra in ("", *dep.get("extra", []))]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        package = lock[name]
        deps = package.get("optional-dependencies", {}).get(extra, []) if extra else package.get("dependencies", [])
        todo += [(dep["name"], sub) for dep in deps for sub in ("", *dep.get("extra", []))]
    return {name for name, _ in seen}


def test_the_lock_matches_pyproject_groups() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "optional-dependencies" not in pyproject["project"]  # the dev tools are a PEP 735 group, not an extra
    requires = _lock()["orders-service"]["metadata"]
    assert len(requires["requires-dist"]) == len(pyproject["project"]["dependencies"])
    assert len(requires["requires-dev"]["dev"]) == len(pyproject["dependency-groups"]["dev"])


def test_serve_installs_no_test_tool_and_the_tests_get_them() -> None:
    lock = _lock()
    project = lock["orders-service"]
    runtime = _closure(lock, project["dependencies"])
    dev = _closure(lock, project["dependencies"] + project["dev-dependencies"]["dev"])
    assert {"litestar", "uvicorn", "sqlalchemy", "celery", "asyncpg"} <= runtime
    assert runtime & TEST_TOOLS == set()
    assert TEST_TOOLS - {"numpy"} <= dev


def test_the_image_installs_from_the_lock_without_the_dev_group() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if line.startswith("RUN ") and " install" in line]
    syncs = [line for line in dockerfile.splitlines() if line.startswith("RUN uv sync")]
    assert syncs and all("--frozen" in line and "--no-dev" in line for line in syncs), syncs
    assert installs == ['RUN pip install --no-cache-dir "uv>=0.13"']  # uv itself; everything else from uv.lock
