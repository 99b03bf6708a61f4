"""Time the demo world generator: ``simulate()`` with defaults and a full ``build_demo_files``.

Run with ``python benchmarks/bench_demo.py [--simulate-runs 5] [--build-runs 3]`` from the
repository root. Writes one line per measurement to stdout; budgets: simulate under 10 s,
build well under 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.demo import build_demo_files, simulate
from pipeline.demo.world import DEFAULT_START

SEED = 42
CUSTOMERS = 42_000
MONTHS = 24


def _time(runs: int, work: Callable[[], int]) -> tuple[list[float], int]:
    """Return the wall times of ``runs`` calls of ``work`` and the count the last one returned."""
    seconds: list[float] = []
    count = 0
    for _ in range(runs):
        started = time.perf_counter()
        count = work()
        seconds.append(time.perf_counter() - started)
    return seconds, count


def _summary(label: str, seconds: list[float], count: int, unit: str) -> str:
    """Return one report line: median, min and max seconds and the size of the result."""
    return (
        f"{label:<18} runs={len(seconds)} median={statistics.median(seconds):.2f}s "
        f"min={min(seconds):.2f}s max={max(seconds):.2f}s {unit}={count:,}\n"
    )


def _build_once() -> int:
    """Build all demo files into a fresh temporary directory; return the bytes written."""
    with tempfile.TemporaryDirectory(prefix="plumbline-bench-") as tmp:
        paths = build_demo_files(Path(tmp), seed=SEED, customers=CUSTOMERS, months=MONTHS)
        return sum(p.stat().st_size for p in paths)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulate-runs", type=int, default=5)
    parser.add_argument("--build-runs", type=int, default=3)
    args = parser.parse_args(argv)

    sys.stdout.write(
        f"demo world: seed={SEED} customers={CUSTOMERS:,} months={MONTHS} "
        f"start={DEFAULT_START.isoformat()}\n"
    )
    seconds, rows = _time(args.simulate_runs, lambda: len(simulate()))
    sys.stdout.write(_summary("simulate()", seconds, rows, "rows"))
    seconds, size = _time(args.build_runs, _build_once)
    sys.stdout.write(_summary("build_demo_files()", seconds, size, "bytes"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
