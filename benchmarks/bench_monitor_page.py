"""Server-side timings of the Monitor page's callbacks over 24 months x 25 features.

Builds a temporary warehouse (migrated by ``Warehouse(path)``) holding what two years of
monitoring leave: drift results for 24 months x 25 features x 5 segment views (the whole batch
and 4 regions; 20-bin histograms), score drift, data quality per column, estimated and
realised performance per segment, 12 model versions with promotions, retrain decisions, runs
and 50 alerts. Then calls every callback of the page (and the Overview's health badge) as a
plain function, encodes its answer as JSON as Dash does before sending it, and prints p50 and
p95 in milliseconds next to two baselines measured in the same run: a bare ``SELECT 1``
through ``Warehouse.read``, and the heatmap's rows read without building a figure. Goal: p95
under 200 ms per callback.

    python benchmarks/bench_monitor_page.py [--periods 24] [--features 25] [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _jsonout import add_json_argument, spread, write_json
from bench_data_page import _p95, _timed  # the timing helpers every page benchmark shares
from bench_models_page import _built, _busy, _time_sent_all  # shared by the page benchmarks

from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse, utcnow

GOAL_MS = 200
REGIONS = ["North", "South", "East", "West"]
BINS = 20
VERSIONS = 12
ALERTS = 50
ESTIMATED = ("roc_auc", "precision", "recall", "f1", "positive_rate")
REALISED = (*ESTIMATED, "mean_probability", "calibration_error")


def _month(i: int) -> date:
    return (pd.Timestamp("2023-01-01") + pd.DateOffset(months=i)).date()


def _histogram(rng: np.random.Generator, shift: float) -> str:
    reference = rng.dirichlet(np.ones(BINS) * 8)
    current = np.clip(reference + rng.normal(0, shift / BINS, BINS), 0.0005, None)
    current /= current.sum()
    labels = [f"({i * 5.0:g}, {(i + 1) * 5.0:g}]" for i in range(BINS)]
    return json.dumps(
        {
            "labels": [*labels, "missing"],
            "reference": [*(reference * 0.98).round(5).tolist(), 0.02],
            "current": [*(current * 0.97).round(5).tolist(), 0.03],
        }
    )


def build_world(wh: Warehouse, periods: int, features: int, seed: int = 7) -> list[str]:
    """Everything the Monitor page reads; returns the feature names (most important first)."""
    rng = np.random.default_rng(seed)
    names = [f"feature_{i:02d}" for i in range(features)]
    segments = [("(all)", "(all)")] + [("region", r) for r in REGIONS]
    start = utcnow().replace(microsecond=0) - timedelta(days=periods)
    champion_every = max(1, periods // VERSIONS)
    with wh.transaction() as cur:
        cur.executemany(
            "INSERT INTO runs (run_id, trigger, status, started_at, finished_at) "
            "VALUES (?, 'schedule', 'succeeded', ?, ?)",
            [[r, start + timedelta(days=r), start + timedelta(days=r, minutes=3)]
             for r in range(1, periods + 1)],
        )  # fmt: skip
        for v in range(1, VERSIONS + 1):
            cur.execute(
                "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, "
                "sha256, size_bytes, train_rows, holdout_rows, roc_auc, pr_auc, brier, "
                "log_loss, features, params, fit_seconds, threshold, metrics) VALUES "
                "(?, ?, ?, 'hgb', 'm', 'sha', 1, 500000, 42000, ?, 0.4, 0.1, 0.3, '[]', '{}', "
                "30.0, 0.2, ?)",
                [
                    v,
                    v * champion_every,
                    start,
                    0.80 + 0.002 * v,
                    json.dumps({"roc_auc": 0.80, "precision": 0.5, "recall": 0.6, "f1": 0.55}),
                ],
            )
        champion = VERSIONS
        cur.execute(
            "INSERT INTO model_aliases VALUES ('champion', ?, ?, 'gate')", [champion, start]
        )
        cur.executemany(
            "INSERT INTO alias_history (alias, version, set_at, reason, run_id) "
            "VALUES ('champion', ?, ?, ?, ?)",
            [[v, start + timedelta(days=v * champion_every, minutes=2),
              f"v{v} beat v{v - 1} on the holdout", v * champion_every]
             for v in range(1, VERSIONS + 1)],
        )  # fmt: skip
        cur.executemany(
            "INSERT INTO explain_importance VALUES (?, 'holdout', ?, 0.1, ?, 0.04, ?, NULL)",
            [[champion, n, 10.0 - i / 3, i + 1] for i, n in enumerate(names)],
        )
        drift = []
        for p in range(periods):
            run = p + 1
            version = min(VERSIONS, 1 + p // champion_every)
            for column, value in segments:
                for i, name in enumerate([*names, "__score__"]):
                    if name == "__score__" and column != "(all)":
                        continue
                    statistic = float(abs(rng.normal(0.04, 0.04)) + (0.2 if i == p % 7 else 0))
                    severity = "drift" if statistic > 0.1 else "watch" if statistic > 0.05 else "ok"
                    where = "" if column == "(all)" else f" in region {value}"
                    drift.append(
                        [_month(p), name, "numeric", column, value, version, _month(0),
                         _month(11), "wasserstein", statistic, 0.1, None, severity == "drift",
                         severity, 42000, 42000 if column == "(all)" else 10500,
                         _histogram(rng, statistic),
                         f"Wasserstein {statistic:.3g} std vs 0.1: {name} "
                         f"{'moved' if severity == 'drift' else 'is stable'}{where}", run]
                    )  # fmt: skip
        cur.executemany(f"INSERT INTO drift_results VALUES ({', '.join(['?'] * 19)})", drift)
        quality = []
        for p in range(periods):
            for name in names:
                quality.append([_month(p), name, "missing_rate", float(rng.beta(1, 60)), 42000])
                quality.append([_month(p), name, "out_of_range_rate", float(rng.beta(1, 400)),
                                42000])  # fmt: skip
                quality.append([_month(p), name, "new_category_rate", 0.0, 42000])
            quality.append([_month(p), "(all)", "duplicate_rate", float(rng.beta(1, 200)), 42000])
            quality.append([_month(p), "(all)", "quarantine_rate", float(rng.beta(1, 500)), 42000])
        cur.executemany(
            "INSERT INTO data_quality VALUES (?, ?, ?, ?, ?, ?)",
            [[*q, 1 + i % periods] for i, q in enumerate(quality)],
        )
        perf = []
        for p in range(periods):
            version = min(VERSIONS, 1 + p // champion_every)
            for column, value in segments:
                for metric in ESTIMATED:
                    v = float(rng.uniform(0.74, 0.82))
                    perf.append([_month(p), "estimated", column, value, metric, v, v - 0.02,
                                 v + 0.02, 42000, version, p + 1])  # fmt: skip
                if p < periods - 1:
                    for metric in REALISED:
                        v = float(rng.uniform(0.74, 0.82))
                        perf.append([_month(p), "realised", column, value, metric, v, None,
                                     None, 41000, version, p + 2])  # fmt: skip
        cur.executemany(f"INSERT INTO performance VALUES ({', '.join(['?'] * 11)})", perf)
        cur.executemany(
            "INSERT INTO retrain_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[p + 1, start + timedelta(days=p + 1), p + 1, _month(p),
              "drift" if p % 3 else "schedule",
              "retrain" if p % champion_every == 0 else ("cooldown" if p % 2 else "none"),
              f"{names[p % 7]} drifted in the batch", min(VERSIONS, 1 + p // champion_every),
              True, "promoted"] for p in range(periods)],
        )  # fmt: skip
        severities = ["info", "warning", "critical"]
        cur.executemany(
            "INSERT INTO alerts (alert_id, raised_at, severity, kind, subject, message, status, "
            "run_id, period) VALUES (?, ?, ?, 'feature_drift', ?, ?, ?, ?, ?)",
            [[a, start + timedelta(hours=a), severities[a % 3], names[a % features],
              f"{names[a % features]} moved in region {REGIONS[a % 4]}: Wasserstein 0.3 > 0.1",
              "resolved" if a % 4 == 0 else "open", 1 + a % periods, _month(a % periods)]
             for a in range(1, ALERTS + 1)],
        )  # fmt: skip
    return names


def monitor_cases(rng: random.Random, names: list[str]) -> dict[str, Callable[[], Any]]:
    """Each Monitor callback (and the Overview badge) as a no-argument call (app already made)."""
    from app.pages import _monitor_alerts as alerts
    from app.pages import monitor, overview

    store = monitor.load_state(monitor.services()).as_store()
    periods, segments = store["periods"], store["segments"]
    open_ids = [
        int(a)
        for (a,) in monitor.services().warehouse.rows(
            "SELECT alert_id FROM alerts WHERE status <> 'resolved'"
        )
    ]

    def pick() -> tuple[str, str, str]:
        return rng.choice(periods), rng.choice(segments), rng.choice(names)

    def row() -> list[dict]:
        alert_id = rng.choice(open_ids)
        return [{"alert_id": alert_id, "severity": "warning", "status": "open", "subject": "x"}]

    stale = {**store, "signature": "before the last run"}
    return {
        "layout (first paint)": lambda: monitor.layout(),
        "layout (?period&segment&feature)": lambda: monitor.layout(*pick()),
        "update_heatmap (whole batch)": lambda: monitor.update_heatmap(
            "(all)", rng.choice(periods), rng.choice(names), store
        ),
        "update_heatmap (a region)": lambda: monitor.update_heatmap(
            rng.choice(segments[1:]), rng.choice(periods), rng.choice(names), store
        ),
        "select_cell": lambda: monitor.select_cell(
            {"points": [{"x": rng.choice(periods), "y": rng.choice(names)}]}, store
        ),
        "update_cell (histogram of one cell)": lambda: monitor.update_cell(*pick(), store),
        "update_prediction": lambda: monitor.update_prediction(rng.choice(segments), store),
        "update_performance": lambda: monitor.update_performance(
            rng.choice(segments), rng.choice(["roc_auc", "precision", "recall", "f1"]), store
        ),
        "update_quality": lambda: monitor.update_quality(store),
        "update_health": lambda: monitor.update_health(store, None),
        "write_url": lambda: monitor.write_url(*pick(), "f1", store),
        "poll_data (unchanged)": lambda: monitor.poll_data(1, store, periods[-1], names[0]),
        "poll_data (new results)": lambda: monitor.poll_data(1, stale, periods[-1], names[0]),
        "update_alerts (active)": lambda: alerts.update_alerts(False, None, store),
        "update_alerts (all)": lambda: alerts.update_alerts(True, None, store),
        "describe_selection": lambda: alerts.describe_selection(row()),
        "acknowledge_alert (refused)": lambda: alerts.acknowledge_alert(1, row(), ""),
        "acknowledge_alert (writes)": lambda: alerts.acknowledge_alert(
            1, row(), "benchmark: looking into it"
        ),
        "mute_alert (writes)": lambda: alerts.mute_alert(1, row(), "benchmark: known", "7"),
        "update_decisions": lambda: alerts.update_decisions(store),
        "overview health badge": lambda: overview.update_health(store),
    }


def main(argv: list[str] | None = None) -> int:
    """Build the world, time every callback against the baselines; 1 if over the goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=int, default=24)
    parser.add_argument("--features", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=30)
    add_json_argument(parser)
    args = parser.parse_args(argv)

    from app import create_app
    from pipeline.warehouse import reads_monitor

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=tmp)
        started = time.perf_counter()
        wh = Warehouse(Path(tmp) / "warehouse.duckdb")
        names = build_world(wh, args.periods, args.features)
        tables = ("drift_results", "data_quality", "performance", "alerts")
        sys.stdout.write(_built(wh, tables, started))
        create_app(settings, wh, _busy)
        whole = reads_monitor.Segment()
        baselines = {
            "baseline: SELECT 1 via Warehouse.read": lambda: wh.read("SELECT 1"),
            "baseline: heatmap rows, no figure": lambda: reads_monitor.heatmap(wh, whole),
        }
        base_runs = {}
        for name, fn in baselines.items():
            fn()
            base_runs[name] = _timed(fn, args.repeat)
        base = statistics.median(base_runs["baseline: SELECT 1 via Warehouse.read"])
        heat_base = statistics.median(base_runs["baseline: heatmap rows, no figure"])
        sys.stdout.write(f"{'callback':40} {'p50 ms':>8} {'p95 ms':>8} {'p50/SELECT 1':>13}\n")
        for name, timings in base_runs.items():
            p50 = statistics.median(timings)
            sys.stdout.write(f"{name:40} {p50:8.1f} {_p95(timings):8.1f} {p50 / base:13.1f}\n")
        worst, heatmap_p50 = 0.0, 0.0
        results = {}
        for name, fn in monitor_cases(random.Random(7), names).items():
            timings = _time_sent_all(fn, args.repeat)
            results[name] = spread(timings)
            p50, p95 = statistics.median(timings), _p95(timings)
            worst = max(worst, p95)
            if name == "update_heatmap (whole batch)":
                heatmap_p50 = p50
            sys.stdout.write(f"{name:40} {p50:8.1f} {p95:8.1f} {p50 / base:13.1f}\n")
        sys.stdout.write(
            f"update_heatmap p50 / its rows without a figure: {heatmap_p50 / heat_base:.1f}\n"
            f"worst p95 {worst:.1f} ms (goal {GOAL_MS} ms)\n"
        )
        write_json(
            args.json,
            {
                "bench": "monitor_page",
                "periods": args.periods,
                "features": args.features,
                "repeat": args.repeat,
                "unit": "ms",
                "baselines": {k: spread(v) for k, v in base_runs.items()},
                "callbacks": results,
            },
        )
        wh.close()
    return 1 if worst > GOAL_MS else 0


if __name__ == "__main__":
    raise SystemExit(main())
