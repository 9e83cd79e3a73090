"""Hit rate of the address resolver on tests/addresses/old_addresses.csv, beside the converter's own parser.

    .venv/bin/python bench/address_bench.py                 # ours, then vietnam-address-converter's (about 90 s)
    .venv/bin/python bench/address_bench.py --no-baseline   # ours only (a few seconds)

For each row: a HIT is the expected 2025 ward (or a refusal where the table says "ambiguous"), a MISS is a
refusal where one ward was expected (acceptable: the customer is asked), a WRONG is any other ward, or a ward
where the table says "ambiguous" (a guess). Every miss and wrong answer is listed. The baseline runs the
converter's own `auto_convert_address` on the same text (names rows joined with commas) and takes its first
answer, mapped to the official code by exact name, as a caller of the converter would. Exit status 1 if the
service's resolver gave any WRONG answer.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TABLE = ROOT / "tests" / "addresses" / "old_addresses.csv"

Answer = int | None  # a 2025 ward code, or None for a refusal


def rows(path: Path = TABLE) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def typed(row: dict[str, str]) -> str:
    return row["text"] or ", ".join(row[k] for k in ("line", "ward", "district", "province") if row[k])


def ours(row: dict[str, str]) -> tuple[Answer, str]:
    from orders_service.domain.errors import InvalidField
    from orders_service.geo.address_in import AddressIn, resolve_in

    if row["text"]:
        value = AddressIn(text=row["text"])
    else:
        value = AddressIn(
            line=row["line"], ward=row["ward"], district=row["district"] or None, province=row["province"]
        )
    try:
        return resolve_in(value, "address").ward_code, ""
    except InvalidField as error:
        return None, error.message


def converter() -> Callable[[dict[str, str]], tuple[Answer, str]]:
    from vietnam_address_converter import create_converter
    from vietnam_provinces import Ward

    official = {(" ".join(w.name.split()), int(w.province_code)): int(w.code) for w in Ward.iter_all()}
    by_name: dict[str, set[int]] = {}
    for (name, _), code in official.items():
        by_name.setdefault(name, set()).add(code)
    parser = create_converter()

    def answer(row: dict[str, str]) -> tuple[Answer, str]:
        result = parser.auto_convert_address(typed(row))
        ward = ((result.get("converted_new") or {}).get("ward") or {}).get("name_with_type")
        if not ward:
            return None, str(result.get("conversion", {}).get("status", "no answer"))
        codes = by_name.get(" ".join(ward.split()), set())
        province = int(row["province_code"])
        exact = [c for c in codes if (" ".join(ward.split()), province) in official and official[(ward, province)] == c]
        if len(exact) == 1:
            return exact[0], ""
        return (next(iter(codes)) if len(codes) == 1 else None), f"{ward}: {len(codes)} official wards by that name"

    return answer


def score(name: str, resolve: Callable[[dict[str, str]], tuple[Answer, str]], table: list[dict[str, str]]) -> int:
    started = time.perf_counter()
    hits, misses, wrong = 0, [], []
    for row in table:
        got, why = resolve(row)
        expected = row["expected"]
        if expected == "ambiguous":
            if got is None:
                hits += 1
            else:
                wrong.append(f"{row['form']:11} {typed(row)!r}: expected a refusal (split ward), got {got}")
        elif got == int(expected):
            hits += 1
        elif got is None:
            misses.append(f"{row['form']:11} {typed(row)!r}: refused ({why}); expected {expected}")
        else:
            wrong.append(f"{row['form']:11} {typed(row)!r}: got {got}, expected {expected}")
    elapsed = time.perf_counter() - started
    n = len(table)
    print(
        f"{name:28} hit {hits}/{n} ({100 * hits / n:.1f} %)   refused {len(misses)}   WRONG {len(wrong)}"
        f"   ({1000 * elapsed / n:.2f} ms per address)"
    )
    for line in misses:
        print("    refused ", line)
    for line in wrong:
        print("    WRONG   ", line)
    return len(wrong)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-baseline", action="store_true", help="skip the converter's own parser (slow start)")
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args(argv)
    table = rows(args.table)
    print(f"{len(table)} addresses from {args.table}")
    wrong = score("orders-service resolver", ours, table)
    if not args.no_baseline:
        score("converter auto_convert", converter(), table)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
