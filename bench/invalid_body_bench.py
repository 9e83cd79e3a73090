"""What naming the field of a bad body costs next to decoding it: a near-10 MB merge body, its last entry wrong."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import msgspec

from orders_service.infra.invalid_field import first_invalid
from orders_service.orders.family_schemas import MergeIn

ID = "00000000-0000-4000-8000-000000000001"


def best_of(runs: int, work: Callable[[], object]) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=250_000, help="entries of `versions` (250,000: about 10 MB)")
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    versions: dict[str, object] = {f"{i:032d}": i for i in range(options.entries)}
    versions["last"] = "not a version"
    body = msgspec.json.encode({"order_ids": [ID, ID], "versions": versions})
    decoded = msgspec.json.decode(body)
    decode = best_of(options.runs, lambda: msgspec.json.decode(body))
    walk = best_of(options.runs, lambda: first_invalid(decoded, MergeIn))
    found = first_invalid(decoded, MergeIn)
    assert found is not None and found.path == ("versions", "last"), found
    print(f"body {len(body) / 1e6:.1f} MB: decode {decode * 1000:.0f} ms, naming {found.field} {walk * 1000:.0f} ms")


if __name__ == "__main__":
    main()
