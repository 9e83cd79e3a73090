"""Shared test set-up: the anyio backend for async tests; Litestar's handler parsing memoized (app_memo.py);
the longest tests collected first.

pytest-xdist hands tests out in collection order. The bench smokes under tests/scale take one to two minutes
each and sat at the end of the alphabet: started last, their length was added to the run's. Collected first,
they run beside the thousands of short tests, which fill in around them.
"""

import pytest

from tests import app_memo

app_memo.install()

# Files whose tests take 10 s to 2 min each (the suite's slowest, in `./dev test`'s --durations), longest first.
LONG_FIRST = [
    "tests/scale/test_scale_run.py",
    "tests/scale/test_hotpaths_bench_run.py",
    "tests/scale/test_amend_bench_run.py",
    "tests/scale/test_courier_fault_run.py",
    "tests/scale/test_small_bench_runs.py",
    "tests/scale/",
    "tests/integration/test_operations_logs.py",
    "tests/integration/test_dashboard_walk.py",
    "tests/integration/test_fuzz.py",
    "tests/integration/test_celery.py",
    "tests/docs/",
    "tests/integration/test_secret_logs.py",
    "tests/integration/test_link_logs.py",
]


def long_first_rank(nodeid: str) -> int:
    """Where a test goes: the rank of the first entry of LONG_FIRST it is in, else after all of them."""
    return next((rank for rank, prefix in enumerate(LONG_FIRST) if nodeid.startswith(prefix)), len(LONG_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: the same order in every xdist worker, as xdist requires; the rest keep theirs.
    items.sort(key=lambda item: long_first_rank(item.nodeid))


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
