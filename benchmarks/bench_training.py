"""Training on the demo's default window: the candidate search against today's single fit.

Data: ``pipeline.demo.simulate`` (seed 42, 42,000 customers, 13 months, ~547k rows), the
cleaned demo's feature columns (PII dropped), the flow's default window: 12 training months
plus 1 holdout month. The simulation is the demo files before their mess is added and cleaned
away, so the rows are what the train step would receive from a clean warehouse.

Measured in one process at one thread (``threadpoolctl``, as compute children run), in
alternating order, ``--repeats`` times:

* ``single``: ``pipeline.train.fit_and_evaluate``: one HistGradientBoosting fit with
  ``TrainSpec``'s default parameters on every training month (what training did before the
  search), then its holdout metrics;
* ``search``: ``pipeline.modeling.fit_candidates`` with default ``TrainingSettings``: search
  over both candidates on time-ordered folds, final fit, calibration, thresholds.

Reports medians and min-max of the wall times, the search's share of ``fit_candidates``, the
choices it made, holdout ROC AUC, PR AUC and Brier of both, and the ratio search/single. Fits
are seeded, so the metrics are identical across repeats; only the times vary. The table is also
written to ``benchmarks/out/bench_training.md``.

Usage: python benchmarks/bench_training.py [--repeats 3] [--customers 42000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from pipeline.demo.world import simulate
from pipeline.modeling import evaluate, fit_candidates
from pipeline.settings import Settings, TrainingSettings
from pipeline.train import LABEL, PERIOD, TrainSpec, fit_and_evaluate

CATEGORICAL = ["plan", "contract_type", "region", "payment_method"]
NUMERIC = ["tenure_months", "monthly_charges", "usage_gb", "support_tickets"]
OUT = Path(__file__).parent / "out" / "bench_training.md"


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def training_frame(customers: int, months: int, seed: int) -> pd.DataFrame:
    """The flow's training frame: features, ``_period`` (date) and ``_label``."""
    world = simulate(seed=seed, customers=customers, months=months)
    frame = world[[*CATEGORICAL, *NUMERIC]].copy()
    frame[PERIOD] = world["snapshot_month"].dt.date
    frame[LABEL] = world["churned"].astype("int64")
    return frame


def run_single(frame: pd.DataFrame, spec: TrainSpec, holdout: int) -> dict[str, Any]:
    started = time.perf_counter()
    result = fit_and_evaluate(frame, spec, holdout)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, **result.metrics}


def run_search(
    frame: pd.DataFrame, spec: TrainSpec, training: TrainingSettings, holdout: int
) -> dict[str, Any]:
    started = time.perf_counter()
    out = fit_candidates(frame, spec, training, holdout)
    seconds = time.perf_counter() - started
    metrics = evaluate(
        out.holdout[LABEL].to_numpy(),
        out.holdout_proba,
        out.threshold,
        training.value_per_churner,
        training.contact_cost,
    )
    return {
        "seconds": seconds,
        "durations": out.durations,
        "search_share": out.durations["search"] / seconds,
        "algorithm": out.algorithm,
        "params": out.params,
        "calibration": out.calibration,
        "calibration_brier": out.calibration_brier,
        "threshold": out.threshold,
        "trials": out.search,
        "notes": out.notes,
        "train_rows": out.train_rows,
        **{k: metrics[k] for k in ("roc_auc", "pr_auc", "brier", "log_loss")},
    }


def _span(values: list[float], fmt: str = ".2f") -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--customers", type=int, default=42_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    defaults = Settings.model_construct()  # the flow's window, without reading any config
    window = defaults.train_window_periods + defaults.holdout_periods
    holdout = defaults.holdout_periods
    training = TrainingSettings()
    spec = TrainSpec(CATEGORICAL, NUMERIC, seed=args.seed)

    _write(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
        f"{platform.python_version()}, scikit-learn {version('scikit-learn')}, pandas "
        f"{version('pandas')}, numpy {version('numpy')}; all fits at 1 thread"
    )
    started = time.perf_counter()
    frame = training_frame(args.customers, window, args.seed)
    _write(
        f"data: {len(frame):,} rows, {window} months ({window - holdout} train + {holdout} "
        f"holdout), churn rate {frame[LABEL].mean():.2%}, simulated in "
        f"{time.perf_counter() - started:.1f} s"
    )
    _write(
        f"search settings: candidates {training.candidates}, {training.search_trials} trials "
        f"each, {training.search_folds} folds, samples of {training.search_sample_rows:,} rows, "
        f"class_weight {training.class_weight}, calibration {training.calibration}"
    )
    singles: list[dict[str, Any]] = []
    searches: list[dict[str, Any]] = []
    with threadpool_limits(1):
        for rep in range(args.repeats):
            order = ("single", "search") if rep % 2 == 0 else ("search", "single")
            load = os.getloadavg()[0]
            for name in order:
                if name == "single":
                    singles.append(run_single(frame, spec, holdout))
                else:
                    searches.append(run_search(frame, spec, training, holdout))
            _write(
                f"run {rep + 1}/{args.repeats} ({' then '.join(order)}, load {load:.1f}): "
                f"single {singles[-1]['seconds']:.1f} s, search {searches[-1]['seconds']:.1f} s"
            )

    first = searches[0]
    _write("\nsearch trials (first run):")
    _write("| # | algorithm | params | fold ROC AUC | mean | s |")
    _write("|---|---|---|---|---|---|")
    for t in first["trials"]:
        folds = ", ".join(f"{a:.4f}" for a in t["fold_auc"])
        _write(
            f"| {t['trial']} | {t['algorithm']} | {json.dumps(t['params'])} | {folds} | "
            f"{t['mean_auc']:.4f} | {t['seconds']:.1f} |"
        )

    single_s = [r["seconds"] for r in singles]
    search_s = [r["seconds"] for r in searches]
    ratio = statistics.median(search_s) / statistics.median(single_s)
    gain = first["roc_auc"] - singles[0]["roc_auc"]
    phases = {k: statistics.median(r["durations"][k] for r in searches) for k in first["durations"]}
    lines = [
        f"training on {len(frame):,} demo rows, {args.repeats} runs at 1 thread (median, min-max)",
        "",
        "| | single default HGB fit (a) | fit_candidates (b) |",
        "|---|---|---|",
        f"| wall time, s | {_span(single_s)} | {_span(search_s)} |",
        f"| search share of (b) | | {_span([r['search_share'] for r in searches], '.0%')} |",
        "| (b) phases, median s | | " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()) + " |",
        f"| chosen | HGB {json.dumps(spec.params)} | {first['algorithm']} "
        f"{json.dumps(first['params'])}, calibration {first['calibration']} |",
        f"| holdout ROC AUC | {singles[0]['roc_auc']:.4f} | {first['roc_auc']:.4f} |",
        f"| holdout PR AUC | {singles[0]['pr_auc']:.4f} | {first['pr_auc']:.4f} |",
        f"| holdout Brier | {singles[0]['brier']:.5f} | {first['brier']:.5f} |",
        f"| holdout log loss | {singles[0]['log_loss']:.4f} | {first['log_loss']:.4f} |",
        "",
        f"ratio time (b)/(a): {ratio:.2f}; holdout ROC AUC gain (b)-(a): {gain:+.4f}",
        f"calibration Brier on the check half: {json.dumps(first['calibration_brier'])}",
        f"profit threshold {first['threshold']:.4f}; notes: {first['notes'] or 'none'}",
        "identical metrics across runs: "
        + str(
            all(r["roc_auc"] == first["roc_auc"] for r in searches)
            and all(r["roc_auc"] == singles[0]["roc_auc"] for r in singles)
        ),
    ]
    _write()
    for line in lines:
        _write(line)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _write(
        json.dumps(
            {
                "rows": len(frame),
                "single_s": statistics.median(single_s),
                "search_s": statistics.median(search_s),
                "ratio": ratio,
                "search_share": statistics.median(r["search_share"] for r in searches),
                "single_roc_auc": singles[0]["roc_auc"],
                "search_roc_auc": first["roc_auc"],
                "auc_gain": gain,
                "algorithm": first["algorithm"],
                "params": first["params"],
                "calibration": first["calibration"],
            }
        )
    )


if __name__ == "__main__":
    main()
