"""Overview callback latency while a model trains: idle, training in a child, training in a thread.

The same warehouse as ``bench_overview.py`` (1M serving rows). The callbacks are called in a
loop, server-side, in three conditions measured in the same run:

- idle: nothing else running;
- child: Plumbline's way, ``run_in_child`` fitting the production pipeline on ~500k demo rows
  in a spawned, lower-priority process with its thread pool pinned;
- thread (the baseline we avoid): the same fit in a sibling thread of the web process.

Goal: p95 while training in a child no more than 2x idle.

    python benchmarks/bench_overview_load.py [--customers 42000] [--train-months 13]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench_overview import build_warehouse, overview_cases

from pipeline.compute import run_in_child
from pipeline.runner import RunRequest
from pipeline.settings import load_settings


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def training_file(path: Path, customers: int, months: int) -> tuple[Path, dict]:
    """Demo rows with labels as the train step's hand-off Parquet; returns path and spec."""
    from pipeline.demo import simulate

    world = simulate(seed=42, customers=customers, months=months)
    categorical = ["plan", "contract_type", "region", "payment_method"]
    numeric = ["tenure_months", "monthly_charges", "usage_gb", "support_tickets"]
    frame = world[categorical + numeric].copy()
    frame["_period"] = world["snapshot_month"].dt.date
    frame["_label"] = world["churned"].astype(int)
    frame.to_parquet(path, index=False)
    return path, {"categorical": categorical, "numeric": numeric, "seed": 42}


def measure_while(cases: dict[str, Callable[[], object]], busy: threading.Event) -> list[float]:
    """Cycle through the callbacks until ``busy`` clears; return every timing in ms."""
    timings = []
    names = list(cases)
    i = 0
    while busy.is_set():
        started = time.perf_counter()
        cases[names[i % len(names)]]()
        timings.append((time.perf_counter() - started) * 1000)
        i += 1
    return timings


def measure_idle(cases: dict[str, Callable[[], object]], count: int) -> list[float]:
    """The same cycle with nothing else running."""
    names = list(cases)
    out = []
    for i in range(count):
        started = time.perf_counter()
        cases[names[i % len(names)]]()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    """95th percentile."""
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=42_000)
    parser.add_argument("--train-months", type=int, default=13)
    parser.add_argument("--repeats", type=int, default=5, help="training runs per condition")
    args = parser.parse_args()

    from app import create_app
    from pipeline.tasks import train_task

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=tmp)
        wh = build_warehouse(Path(tmp) / "warehouse.duckdb", args.customers, 24)
        create_app(settings, wh, lambda trigger, user: RunRequest(False, 0, "benchmark"))
        cases = overview_cases(random.Random(11))
        for fn in cases.values():
            fn()
        train_path, spec = training_file(
            Path(tmp) / "train.parquet", args.customers, args.train_months
        )
        kwargs = {
            "train_path": str(train_path),
            "spec": spec,
            "holdout_periods": 1,
            "artefact_dir": str(Path(tmp) / "models"),
            "version": 1,
            "champion": None,
        }

        def in_child() -> None:
            run_in_child("pipeline.tasks.train_task", kwargs, threads=settings.compute_threads)

        def in_thread() -> None:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(settings.compute_threads):
                train_task(**kwargs)

        results: dict[str, list[float]] = {"idle": [], "child": [], "thread": []}
        fit_seconds: dict[str, list[float]] = {"child": [], "thread": []}
        for _ in range(args.repeats):
            results["idle"] += measure_idle(cases, 120)
            for name, work in (("child", in_child), ("thread", in_thread)):
                busy = threading.Event()
                busy.set()

                def run(
                    work: Callable[[], None] = work, busy: threading.Event = busy, name: str = name
                ) -> None:
                    started = time.perf_counter()
                    work()
                    fit_seconds[name].append(time.perf_counter() - started)
                    busy.clear()

                worker = threading.Thread(target=run)
                worker.start()
                results[name] += measure_while(cases, busy)
                worker.join()
        wh.close()

    idle = p95(results["idle"])
    _write(
        f"Overview callbacks, all six cycled; {args.repeats} trainings per condition on "
        f"{args.customers:,} customers x {args.train_months} months"
    )
    _write(f"{'condition':34} {'calls':>6} {'median ms':>10} {'p95 ms':>8} {'p95/idle':>9}")
    for name, label in (
        ("idle", "idle"),
        ("child", "training in a child process"),
        ("thread", "training in a sibling thread"),
    ):
        values = results[name]
        _write(
            f"{label:34} {len(values):6d} {statistics.median(values):10.1f} "
            f"{p95(values):8.1f} {p95(values) / idle:9.2f}"
        )
    for name, values in fit_seconds.items():
        _write(f"training wall time ({name}): median {statistics.median(values):.1f} s")


if __name__ == "__main__":
    main()
