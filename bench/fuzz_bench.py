"""schemathesis against the whole API with its conformance checks, deeper than the test suite's run.

Every phase (examples, coverage, fuzzing, stateful) over every operation of the app, in-process (ASGI) on a fresh
migrated SQLite database, with an admin key; the checks, and why some are left out, are in
tests/integration/fuzzing.py (shared with tests/integration/test_fuzz.py). It prints the requests the app
answered, their statuses, and per check how many of the responses it judged failed; with --samples, a few
failures of each check. Writes bench/results/fuzz-<ts>.json.

    .venv/bin/python bench/fuzz_bench.py [--examples 50] [--seed 1] [--phases examples,coverage,fuzzing,stateful]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if not os.environ.get("FUZZ_BENCH_REEXEC"):
    venv_python = REPO / ".venv" / "bin" / "python"
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        if venv_python.exists():
            os.execve(str(venv_python), [str(venv_python), *sys.argv], {**os.environ, "FUZZ_BENCH_REEXEC": "1"})
        raise
sys.path.insert(0, str(REPO))

from orders_service.db.migrate import upgrade  # noqa: E402
from orders_service.infra.settings import Settings  # noqa: E402
from tests.integration.databases import TEST_ENV  # noqa: E402
from tests.integration.fuzzing import CHECKS, FUZZ_ENV, PHASES, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=50, help="examples per operation in the fuzzing phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--samples", type=int, default=0, help="failures to print per check")
    parser.add_argument("--results-dir", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())

    with tempfile.TemporaryDirectory(prefix="fuzz-bench-") as folder:
        settings = Settings.from_env({"ORDERS_DATA_DIR": folder, **TEST_ENV, **FUZZ_ENV})
        upgrade(settings)
        report = run(settings, max_examples=args.examples, seed=args.seed, phases=phases)

    print(f"phases {','.join(phases)}, {args.examples} examples per operation, seed {args.seed}")
    print(f"{len(report.operations)} operations")
    print(report.table())
    print(f"  schema-valid requests the decoder refused: {len(report.refused_by_decoder)}")
    print("  valid data refused, by operation, status and the field the problem names:")
    for what, count in report.refusals.most_common(25):
        print(f"    {count:5} {what}")
    for name in CHECKS:
        for sample in report.samples.get(name, [])[: args.samples]:
            print(f"  [{name}] {sample}")

    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.results_dir / f"fuzz-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "phases": phases,
                "examples": args.examples,
                "seed": args.seed,
                "operations": len(report.operations),
                "requests": report.requests,
                "seconds": round(report.seconds, 1),
                "statuses": dict(report.statuses),
                "checks": {name: {"ran": report.ran[name], "failed": report.failed[name]} for name in CHECKS},
                "refused_by_decoder": len(report.refused_by_decoder),
                "refusals": dict(report.refusals.most_common()),
                "samples": {name: report.samples.get(name, [])[:20] for name in CHECKS},
                "errors": report.errors,
            },
            indent=1,
            ensure_ascii=False,
        )
    )
    print(f"written {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 1 if report.failed["not_a_server_error"] or report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
