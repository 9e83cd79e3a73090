"""The README's shell blocks, run as written against a fresh server: every command a reader copies works.

One real `orders-service serve` (embedded default: SQLite in a temporary folder, the sandbox courier on) on a
free port serves every block; the blocks run in order in one bash (`set -euo pipefail`), as a reader runs them
in one terminal. Blocks marked as needing an outside service are reported as skipped with the README's reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.docs.readme_blocks import OUTSIDE, Block, outputs, script, shell_blocks
from tests.integration.processes import BIN, Processes, clean_env, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCKS = shell_blocks(README.read_text())
RUNNABLE = [b for b in BLOCKS if b.needs is None]
MARKED = [b for b in BLOCKS if b.needs is not None]


def _unmarked() -> list[str]:
    """Unmarked lines calling Docker, kubectl, apt-get, sudo or the stack script: never run here."""
    return [
        f"README.md line {b.line + n}: {line.strip()}"
        for b in RUNNABLE
        for n, line in enumerate(b.code.splitlines())
        if OUTSIDE.search(line.split("#", 1)[0])
    ]


# The refusals the README shows on purpose: a stale If-Match, none, a merge of a merged order, a price and a
# payment through the customer's link, and a revoked link.
EXPECTED_REFUSALS = [
    "POST /api/orders/<id>/amendments 412",
    "POST /api/orders/<id>/amendments 428",
    "POST /api/orders/merge 409",
    "POST /api/orders 409",  # the catalogue's out-of-stock order
    "POST /api/public/orders/***/amendments 422",  # the log masks link tokens
    "POST /api/public/orders/***/amendments 409",
    "GET /o/*** 404",
    "POST /api/addresses/resolve 422",  # an old ward split between three 2025 wards: nothing is guessed
]


def test_blocks_that_need_an_outside_service_say_so() -> None:
    unmarked = _unmarked()
    assert not unmarked, "mark these blocks with <!-- readme: needs ... -->:\n" + "\n".join(unmarked)


@pytest.mark.parametrize("block", MARKED, ids=[f"line-{b.line}" for b in MARKED])
def test_marked_block(block: Block) -> None:
    pytest.skip(f"README.md line {block.line} ({block.heading}): {block.needs}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str], Processes]]:
    folder = tmp_path_factory.mktemp("readme")
    port = free_port()
    # What `./dev serve` gives a reader on port 8000, on a free port: the links it makes point at itself.
    env = clean_env(
        ORDERS_DATA_DIR=str(folder / "data"),
        ORDERS_PORT=str(port),
        ORDERS_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
    )
    processes = Processes(env, folder)
    processes.start("serve", "serve")
    try:
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200, 60, "/health")
        yield port, env, processes
    finally:
        processes.stop()


def _run(port: int, env: dict[str, str], processes: Processes) -> dict[str, str]:
    if _unmarked():
        pytest.fail("some blocks need an outside service and do not say so: not running them (see the test above)")
    if shutil.which("jq") is None:
        pytest.fail("the README's commands use jq: `apt-get install -y jq` (./dev test installs it)")
    run = script(RUNNABLE, port, BIN)
    try:
        done = subprocess.run(
            ["bash", "-c", run.text],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,  # a wait loop whose condition never comes (a tracking code, a campaign done)
        )
    except subprocess.TimeoutExpired as stuck:
        printed = stuck.stdout.decode(errors="replace") if isinstance(stuck.stdout, bytes) else stuck.stdout or ""
        raise AssertionError(f"the README's commands hang; printed so far:\n{printed[-3000:]}") from None
    if done.returncode != 0:
        # The ERR trap names the line of a failed command; bash itself names it for an unset variable.
        failed = re.search(r"@@failed at script line (\d+)@@|^bash: line (\d+):", done.stderr, re.M)
        where = run.where(int(failed.group(1) or failed.group(2))) if failed else None
        raise AssertionError(
            f"the README's commands failed (exit {done.returncode}) near README.md line {where}\n"
            f"--- stdout (tail)\n{done.stdout[-3000:]}\n--- stderr (tail)\n{done.stderr[-3000:]}\n"
            + processes.tails(("serve",))
        )
    return outputs(done.stdout, RUNNABLE)


def _refused(log: Path) -> list[str]:
    """The requests the server answered with a 4xx or 5xx, from its access log: `METHOD path status`."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if '"orders_service.access"' in line:
            method, path, status = json.loads(line)["message"].split()[:3]
            if int(status) >= 400:
                found.append(f"{method} {re.sub(r'[0-9a-f-]{36}', '<id>', path)} {status}")
    return found


def _json_lines(printed: str) -> list[dict[str, Any]]:
    """The one-line JSON objects a section printed (`jq -c`)."""
    return [json.loads(line) for line in printed.splitlines() if line.startswith("{") and line.endswith("}")]


def test_readme_commands_run_verbatim(server: tuple[int, dict[str, str], Processes]) -> None:
    printed = _run(*server)
    # curl prints a problem and goes on: every refusal must be one the README shows on purpose, no 5xx ever.
    assert sorted(_refused(server[2].folder / "serve.log")) == sorted(EXPECTED_REFUSALS)
    tour = printed["A short tour"]
    assert '"cod_amount": 860000' in tour  # the order's COD counts the dearer try-on option
    assert re.search(r'^etag: "2"', tour, re.I | re.M)
    assert re.search(r"^412$", tour, re.M) and re.search(r"^428$", tour, re.M)

    typed = _json_lines(printed["Addresses typed the old way"])
    assert {"line": "12 Lê Lợi", "ward_code": 26740, "ward_name": "Phường Sài Gòn", "province_code": 79} in typed
    assert {"field": "text", "n": 3} in typed

    shipping = printed["Shipping through the sandbox courier"]
    assert '"status": "partially_delivered"' in shipping
    # The dress and the fee, re-quoted when the tour moved the order to Hà Nội (30,000 + 20,000).
    assert '"cod_amount": 500000' in shipping and '"cod_collected": 500000' in shipping

    family = _json_lines(printed["Merge and split"])
    merged = next(o for o in family if o.get("merged_from"))
    assert merged["cod_amount"] == 435000
    assert any(o.get("status") == "merged" and o.get("cod_amount") == 0 for o in family)
    assert re.search(r"^409$", printed["Merge and split"], re.M)  # merging a merged order again
    parts = [o for o in family if "skus" in o]
    assert [p["skus"] for p in parts] == [["DRESS-01"], ["SCARF-05"]] and parts[1]["split_from"]

    stock = _json_lines(printed["Catalogue and stock"])
    assert {
        "subtotal": 1800000,
        "weight_g": 800,
        "dimensions": {"length_cm": 40, "width_cm": 30, "height_cm": 10},
    } in stock
    assert {"stock": 3, "reserved": 2, "available": 1} in stock
    assert re.search(r"^null$", printed["Catalogue and stock"], re.M)  # the 409: no order made

    page = printed["The customer's page"]
    link_json = _json_lines(page)
    assert link_json[0]["cod_amount"] == 840000  # two dresses, 10% off (the tier the tour's delivery earned), fee
    assert {"version": 2, "paid": 20000, "cod_amount": 415000} in link_json  # her change, saved
    assert re.search(r"^422$", page, re.M) and "add_payment is for shop staff only" in page
    assert {"type": "amended", "by": "customer", "cod_after": 415000} in link_json
    assert re.search(r"^204\n404$", page, re.M)  # revoked: the link opens nothing

    loyalty = _json_lines(printed["Loyalty"])
    assert {"status": "new", "tier": "standard", "points": 25, "segments": ["new", "rfm_promising"]} in loyalty
    assert [e["points"] for e in loyalty if "kind" in e] == [45, -20]

    notifications = printed["Notifications"] + printed["Campaigns"]
    told = _json_lines(notifications)
    dry_run = next(o for o in told if "would_send" in o)
    # Who would get it now, inside or outside the quiet hours: Lan, either at once or when the window opens.
    assert dry_run["recipients"] == 1 and dry_run["would_send"] + dry_run["deferred"] == 1
    assert {"state": "done", "recipients": 1, "processed": 1, "queued": 1, "suppressed": 0}.items() <= next(
        o for o in told if o.get("state") == "done"
    ).items()
    assert {"opted_out": True, "marketing": ["withdrawn"]} in told
    assert {"opted out of marketing messages": 1} in told

    operations = printed["Operations"]
    assert '{"status":"ready","checks":["database"]}' in operations
    assert 'orders_amendments_total{actor_kind="customer",outcome="applied"} 1.0' in operations
    assert re.search(r"^x-request-id: readme-1", operations, re.I | re.M)

    assert re.search(r"^303 http://localhost:\d+/dashboard/login", printed["Staff dashboard"], re.M)
