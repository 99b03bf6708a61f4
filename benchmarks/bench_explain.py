"""Explanations on a realistic model: global explanation throughput and local latency.

Data: ``bench_training.training_frame`` (the demo world, seed 42, ``--customers`` customers,
13 months: ~100k rows with the default 8,000). Models are fitted the way ``fit_candidates``
fits its winner on the demo (``build_candidate`` with default parameters on the 12 training
months): gradient boosting uncalibrated (what the demo's search chooses), the same calibrated
by sigmoid on the last training month, and the logistic regression baseline. Each model is
explained on the holdout month, as ``train_task`` does.

Measured in one process at one thread (``threadpoolctl``, as compute children run):

* ``global``: ``global_explanation`` with ``--sample-rows`` (default 5,000, the settings'
  minimum) and 1,000 dependence points: sampling, SHAP, probability points, importance,
  interactions and the points table; ``--repeats`` times, alternating with
* ``shap direct``: ``shap.TreeExplainer(estimator).shap_values`` (LinearExplainer for the
  linear model) on the same sample, already encoded: the floor any SHAP summary pays;
* ``explain``: ``Explainer(...)`` built once, then ``explain`` of the whole sample (SHAP per
  original column, raw scores, probabilities) without the summaries;
* ``local``: an Explainer built once (the web process caches it per model version), then for
  each of 100 entities of the holdout: ``explain`` of its one row, ``probability_points`` and
  ``local_story``; the goal is under 300 ms of server time per entity.

Reports medians (min-max) and rows per second, the ratio global/direct, and local median and
p95 in milliseconds. The table is also written to ``benchmarks/out/bench_explain.md``.

Usage: python benchmarks/bench_explain.py [--repeats 5] [--customers 8000] [--sample-rows 5000]
       [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shap
from _jsonout import add_json_argument, spread, write_json
from bench_training import CATEGORICAL, NUMERIC, training_frame
from threadpoolctl import threadpool_limits

from pipeline.explain.global_summary import BACKGROUND_ROWS, global_explanation, stratified_sample
from pipeline.explain.language import local_story
from pipeline.explain.shap_values import Explainer, probability_points
from pipeline.modeling.calibration import calibrate, fitted_estimator
from pipeline.modeling.candidates import HGB, LOGREG, build_candidate, default_params
from pipeline.train import LABEL, PERIOD, TrainSpec, prepare_features, split_by_time

OUT = Path(__file__).parent / "out" / "bench_explain.md"
LOCAL_GOAL_MS = 300.0
DEPENDENCE_POINTS = 1_000
ENTITIES = 100


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _span(values: list[float], fmt: str = ".2f") -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def _seconds(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def fit_models(frame: pd.DataFrame, spec: TrainSpec, seed: int) -> dict[str, Any]:
    """The three models, fitted on the training months (sigmoid calibrated on the last one)."""
    train, _ = split_by_time(frame, 1)
    last = train[PERIOD].max()
    fit_rows, calib_rows = train[train[PERIOD] < last], train[train[PERIOD] == last]
    models: dict[str, Any] = {}
    for algorithm in (HGB, LOGREG):
        pipe = build_candidate(algorithm, spec, default_params(algorithm, "none"), seed)
        rows = train if algorithm == LOGREG else fit_rows
        pipe.fit(prepare_features(rows, spec), rows[LABEL].to_numpy())
        if algorithm == HGB:
            calibrated = calibrate(
                pipe, prepare_features(calib_rows, spec), calib_rows[LABEL].to_numpy(), "sigmoid"
            )
            # The uncalibrated winner is refit on every training month, as fit_candidates does.
            full = build_candidate(algorithm, spec, default_params(algorithm, "none"), seed)
            models["HGB"] = full.fit(prepare_features(train, spec), train[LABEL].to_numpy())
            models["HGB + sigmoid"] = calibrated
        else:
            models["logistic regression"] = pipe
    return models


def direct_shap(pipe: Any, encoded: np.ndarray, background: np.ndarray) -> np.ndarray:
    """shap called directly on the estimator and encoded rows (no mapping, no summaries)."""
    estimator = fitted_estimator(pipe)
    if hasattr(estimator, "coef_"):
        masker = shap.maskers.Independent(background, max_samples=len(background))
        return shap.LinearExplainer(estimator, masker).shap_values(encoded)
    return shap.TreeExplainer(estimator).shap_values(encoded)


def bench_model(
    name: str, pipe: Any, spec: TrainSpec, holdout: pd.DataFrame, args: argparse.Namespace
) -> dict[str, Any]:
    seed = args.seed
    sample = stratified_sample(holdout, LABEL, args.sample_rows, seed)
    x = prepare_features(sample, spec)
    background = prepare_features(stratified_sample(holdout, LABEL, BACKGROUND_ROWS, seed), spec)
    encode = pipe.named_steps["encode"]
    encoded, encoded_background = encode.transform(x), encode.transform(background)

    def run_global() -> None:
        global_explanation(pipe, spec, holdout, args.sample_rows, DEPENDENCE_POINTS, seed)

    def run_direct() -> None:
        direct_shap(pipe, encoded, encoded_background)

    def run_explain() -> None:
        Explainer(pipe, spec, background).explain(x)

    times: dict[str, list[float]] = {"global": [], "direct": [], "explain": []}
    for rep in range(args.repeats):
        order = ["global", "direct", "explain"]
        if rep % 2:
            order.reverse()
        for case in order:
            fn = {"global": run_global, "direct": run_direct, "explain": run_explain}[case]
            times[case].append(_seconds(fn))

    built = time.perf_counter()
    explainer = Explainer(pipe, spec, background)
    build_ms = (time.perf_counter() - built) * 1000
    entities = prepare_features(holdout.sample(ENTITIES, random_state=seed), spec)
    local_ms: list[float] = []
    stories: list[list[str]] = []
    for i in range(len(entities)):
        row = entities.iloc[[i]]
        started = time.perf_counter()
        expl = explainer.explain(row)
        points = probability_points(expl)
        story = local_story(expl.features, row.iloc[0], points[0])
        local_ms.append((time.perf_counter() - started) * 1000)
        stories.append(story)

    result = global_explanation(pipe, spec, holdout, args.sample_rows, DEPENDENCE_POINTS, seed)
    top = result["importance"].iloc[0]
    median_global, median_direct = (statistics.median(times[k]) for k in ("global", "direct"))
    return {
        "model": name,
        "rows": len(x),
        "global_s": times["global"],
        "direct_s": times["direct"],
        "explain_s": times["explain"],
        "global_rows_per_s": len(x) / median_global,
        "direct_rows_per_s": len(x) / median_direct,
        "ratio": median_global / median_direct,
        "build_ms": build_ms,
        "local_ms": local_ms,
        "local_median_ms": statistics.median(local_ms),
        "local_p95_ms": _p95(local_ms),
        "top_feature": f"{top['feature']} ({top['share']:.0%}, {top['direction']})",
        "example_story": stories[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--customers", type=int, default=8_000)
    parser.add_argument("--sample-rows", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=42)
    add_json_argument(parser)
    args = parser.parse_args()
    spec = TrainSpec(CATEGORICAL, NUMERIC, seed=args.seed)
    _write(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
        f"{platform.python_version()}, shap {version('shap')}, scikit-learn "
        f"{version('scikit-learn')}, pandas {version('pandas')}, numpy {version('numpy')}; "
        f"1 thread, load {os.getloadavg()[0]:.1f}"
    )
    started = time.perf_counter()
    frame = training_frame(args.customers, 13, args.seed)
    _, holdout = split_by_time(frame, 1)
    _write(
        f"data: {len(frame):,} rows over 13 months, holdout month {len(holdout):,} rows, churn "
        f"rate {frame[LABEL].mean():.2%}, simulated in {time.perf_counter() - started:.1f} s"
    )
    results = []
    with threadpool_limits(1):
        started = time.perf_counter()
        models = fit_models(frame, spec, args.seed)
        _write(f"fitted {len(models)} models in {time.perf_counter() - started:.1f} s")
        for name, pipe in models.items():
            results.append(bench_model(name, pipe, spec, holdout, args))
            r = results[-1]
            _write(
                f"{name}: global {statistics.median(r['global_s']):.2f} s, direct "
                f"{statistics.median(r['direct_s']):.2f} s, local median "
                f"{r['local_median_ms']:.1f} ms (load {os.getloadavg()[0]:.1f})"
            )

    n = results[0]["rows"]
    lines = [
        f"explanations on the demo ({len(frame):,} rows, {args.customers:,} customers), "
        f"holdout month {len(holdout):,} rows, sample {n:,} rows, {args.repeats} runs at "
        "1 thread (median, min-max)",
        "",
        "| | " + " | ".join(r["model"] for r in results) + " |",
        "|---|" + "---|" * len(results),
        "| global_explanation, s | " + " | ".join(_span(r["global_s"]) for r in results) + " |",
        "| shap called directly, s | " + " | ".join(_span(r["direct_s"]) for r in results) + " |",
        "| Explainer + explain only, s | "
        + " | ".join(_span(r["explain_s"]) for r in results)
        + " |",
        "| global rows/s | " + " | ".join(f"{r['global_rows_per_s']:,.0f}" for r in results) + " |",
        "| direct shap rows/s | "
        + " | ".join(f"{r['direct_rows_per_s']:,.0f}" for r in results)
        + " |",
        "| ratio global/direct | " + " | ".join(f"{r['ratio']:.2f}" for r in results) + " |",
        "| Explainer build (once per version), ms | "
        + " | ".join(f"{r['build_ms']:.0f}" for r in results)
        + " |",
        f"| local: explain 1 row + points + story, median ms ({ENTITIES} entities) | "
        + " | ".join(f"{r['local_median_ms']:.1f}" for r in results)
        + " |",
        "| local p95 ms | " + " | ".join(f"{r['local_p95_ms']:.1f}" for r in results) + " |",
        "| local max ms | " + " | ".join(f"{max(r['local_ms']):.1f}" for r in results) + " |",
        "| strongest feature | " + " | ".join(r["top_feature"] for r in results) + " |",
        "",
        f"local goal {LOCAL_GOAL_MS:.0f} ms: "
        + ("met" if all(r["local_p95_ms"] < LOCAL_GOAL_MS for r in results) else "MISSED")
        + " at p95 for every model",
        f"example story ({results[0]['model']}): " + "; ".join(results[0]["example_story"]),
    ]
    _write()
    for line in lines:
        _write(line)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _write(
        json.dumps(
            {
                r["model"]: {
                    "global_s": statistics.median(r["global_s"]),
                    "direct_s": statistics.median(r["direct_s"]),
                    "ratio": r["ratio"],
                    "global_rows_per_s": r["global_rows_per_s"],
                    "local_median_ms": r["local_median_ms"],
                    "local_p95_ms": r["local_p95_ms"],
                }
                for r in results
            }
        )
    )
    write_json(
        args.json,
        {
            "bench": "explain",
            "customers": args.customers,
            "rows": len(frame),
            "holdout_rows": len(holdout),
            "sample_rows": n,
            "repeats": args.repeats,
            "local_goal_ms": LOCAL_GOAL_MS,
            "models": {
                r["model"]: {
                    "global_s": spread(r["global_s"]),
                    "direct_s": spread(r["direct_s"]),
                    "explain_s": spread(r["explain_s"]),
                    "global_rows_per_s": r["global_rows_per_s"],
                    "direct_rows_per_s": r["direct_rows_per_s"],
                    "ratio": r["ratio"],
                    "build_ms": r["build_ms"],
                    "local_ms": spread(r["local_ms"]),
                    "entities": len(r["local_ms"]),
                }
                for r in results
            },
        },
    )


if __name__ == "__main__":
    main()
