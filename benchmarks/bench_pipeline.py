"""One monthly demo batch end to end (ingest to score), with each step's share.

Baseline, measured in the same run on the same month: the least any pipeline must do, in plain
pandas and scikit-learn in one process: ``read_csv`` of the month's file plus one
default-parameter HistGradientBoosting fit on the same training rows. The ratio says what
Plumbline's validation, quarantine, child processes and transactional publish cost on top.

Usage: python benchmarks/bench_pipeline.py [--customers 42000] [--months 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
from _jsonout import add_json_argument, spread, write_json
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from pipeline.demo.files import month_label
from pipeline.democlock import DemoClock
from pipeline.flow import STEPS
from pipeline.runner import Runner
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse

START = date(2024, 1, 1)


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def baseline(data_dir: Path, month_file: Path, window: int) -> float:
    """read_csv of one month plus one default HGB fit on the training window, in seconds."""
    started = time.perf_counter()
    pd.read_csv(month_file)
    wh = Warehouse(data_dir / "warehouse.duckdb", read_only=True)
    frame = wh.read(
        "SELECT c.* EXCLUDE (customer_id, snapshot_month, _batch_id), l.label FROM clean_rows c "
        "JOIN labels l ON l.entity_id = c.customer_id AND l.event_time = c.snapshot_month "
        "WHERE c._period >= (SELECT max(period) FROM labels) - to_months(?)",
        [window],
    )
    wh.close()
    x = frame.drop(columns=["label", "_period"])
    for col in x.columns:
        if x[col].dtype == object or str(x[col].dtype).startswith("str"):
            x[col] = x[col].astype("category")
    with threadpool_limits(1):
        HistGradientBoostingClassifier(categorical_features="from_dtype").fit(x, frame["label"])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=42_000)
    parser.add_argument("--months", type=int, default=5, help="monthly runs to time")
    add_json_argument(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data_dir=Path(tmp),
            demo={"customers": args.customers, "months": 24, "initial_months": 8},
        )
        wh = Warehouse(settings.warehouse_path)
        clock, runner = DemoClock(settings, wh), Runner(settings, wh)
        started = time.perf_counter()
        clock.advance()
        setup_s = time.perf_counter() - started
        _write(f"setup: demo files and months 1-8 released in {setup_s:.1f} s")
        started = time.perf_counter()
        first, _ = runner.run_now("bench")
        first_run_s = time.perf_counter() - started
        first_steps = {
            step: {"seconds": seconds, "rows_in": count}
            for step, seconds, count in wh.rows(
                "SELECT step, duration_s, rows_in FROM run_steps WHERE run_id = ?", [first.run_id]
            )
        }
        _write(f"first run (8 months, first model): {first_run_s:.1f} s")
        totals, steps, bases = [], {s: [] for s in STEPS}, []
        rows_in: dict[str, list[int]] = {s: [] for s in STEPS}
        for _ in range(args.months):
            month = clock.advance()[0]
            started = time.perf_counter()
            request, reason = runner.run_now("bench")
            totals.append(time.perf_counter() - started)
            assert reason is None, reason
            rows = wh.rows(
                "SELECT step, duration_s, rows_in FROM run_steps WHERE run_id = ?",
                [request.run_id],
            )
            for step, seconds, count in rows:
                steps[step].append(seconds)
                rows_in[step].append(count)
            wh.close()  # the baseline opens the file read-only, as a separate owner would
            month_file = settings.landing_dir / f"customers_{month_label(START, month)}.csv"
            bases.append(baseline(settings.data_dir, month_file, settings.train_window_periods))
            wh = Warehouse(settings.warehouse_path)
            clock, runner = DemoClock(settings, wh), Runner(settings, wh)
        runner.shutdown()
        wh.close()
    total = statistics.median(totals)
    base = statistics.median(bases)
    _write(f"\nmonthly batch end to end ({args.customers:,} customers, {args.months} runs)")
    _write(f"  median {total:.2f} s (min {min(totals):.2f}, max {max(totals):.2f})")
    for step, values in steps.items():
        if not values:  # a step this flow skipped
            continue
        med = statistics.median(values)
        _write(f"  {step:<9} median {med:6.2f} s  share {med / total:5.1%}")
    _write(f"baseline read_csv + one default HGB fit: median {base:.2f} s")
    _write(f"ratio pipeline / baseline: {total / base:.2f}")
    _write(
        json.dumps(
            {
                "median_s": total,
                "baseline_s": base,
                "ratio": total / base,
                "steps": {s: statistics.median(v) for s, v in steps.items() if v},
            }
        )
    )
    write_json(
        args.json,
        {
            "bench": "pipeline",
            "customers": args.customers,
            "demo_months": 24,
            "demo_rows": args.customers * 24,
            "runs": args.months,
            "setup_s": setup_s,
            "first_run_s": first_run_s,
            "total": spread(totals),
            "baseline": spread(bases),
            "first_run_steps": first_steps,
            # rows_in is the step's own count: files for ingest, drift cells for monitor, 0 for
            # a train step the retraining policy skipped.
            "steps": {
                s: {**spread(v), "runs_s": v, "runs_rows_in": rows_in[s]}
                for s, v in steps.items()
                if v
            },
        },
    )


if __name__ == "__main__":
    main()
