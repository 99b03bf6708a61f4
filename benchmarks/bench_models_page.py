"""Server-side timings of the Model review page's callbacks with 200 registered versions.

Builds a temporary warehouse (migrated by ``Warehouse(path)``) holding 200 model versions with
their lineage, gate decisions and metrics; about 400 alias history rows; each version's own
evaluation plus the champion of its day measured on its window (curves with 201-point ROC, PR
and threshold grids); 3 segment columns x 4 values per evaluation; an open refused-artefact
alert and a finished promotion run. Then calls every callback of the page as a plain function
(and encodes its answer as JSON, as Dash does before sending it), with varied inputs, and
prints p50 and p95 in milliseconds next to a baseline measured in the same run: a bare
``SELECT 1`` through ``Warehouse.read``. Goal: p95 under 300 ms per callback.

    python benchmarks/bench_models_page.py [--versions 200] [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _jsonout import add_json_argument, spread, write_json
from bench_data_page import _p95, _timed  # the timing helpers every page benchmark shares
from dash import no_update
from plotly.io.json import to_json_plotly

from pipeline.modeling.evaluation import curves, evaluate, segment_metrics
from pipeline.runner import RunRequest
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse, utcnow
from pipeline.warehouse.alerts import raise_alert

GOAL_MS = 300
SEGMENTS = {
    "region": ["North", "South", "East", "West"],
    "plan": ["Basic", "Standard", "Premium", "Family"],
    "contract_type": ["monthly", "one-year", "two-year", "none"],
}
WINDOW_ROWS = 42_000  # the demo's customers per month: curves are thinned to 201 points anyway
VARIANTS = 8  # distinct evaluation payloads, cycled over the versions
BATCHES = 60
LIBRARIES = ["python", "scikit-learn", "numpy", "pandas", "duckdb", "skops", "pyarrow", "scipy"]


def _payloads(rng: np.random.Generator) -> list[dict[str, Any]]:
    """``VARIANTS`` evaluations (metrics, curves, segments) of plausible churn scores."""
    out = []
    segs = pd.DataFrame(
        {c: rng.choice(v, size=WINDOW_ROWS) for c, v in SEGMENTS.items()}  # type: ignore[arg-type]
    )
    for k in range(VARIANTS):
        y = (rng.uniform(size=WINDOW_ROWS) < 0.12).astype(int)
        logit = -2.2 + (1.2 + 0.1 * k) * y + rng.normal(0, 1, WINDOW_ROWS)
        proba = 1 / (1 + np.exp(-logit))
        threshold = 0.18 + 0.01 * k
        out.append(
            {
                "threshold": threshold,
                "metrics": evaluate(y, proba, threshold, 300.0, 20.0),
                "curves": json.dumps(curves(y, proba)),
                "segments": segment_metrics(segs, y, proba, threshold),
            }
        )
    return out


def _month(i: int) -> date:
    return (pd.Timestamp("2010-01-01") + pd.DateOffset(months=i)).date()


def _lineage(version: int, batches: int) -> str:
    return json.dumps(
        {
            "run_id": version,
            "data": {
                "window_from": str(_month(version)),
                "window_to": str(_month(version + 12)),
                "batches": [
                    {"batch_id": b, "kind": "data", "file": f"m{b}.csv", "sha256": f"{b:064x}"}
                    for b in range(max(1, batches - 24), batches + 1)
                ],
            },
            "settings": {
                "training": {"search_trials": 4 + version % 3, "seed": 42, "calibration": "auto"},
                "holdout_periods": 1,
                "train_window_periods": 12,
            },
            "settings_hash": f"{version % 3:064x}",
            "code_version": f"git {version:012x}",
            "libraries": dict.fromkeys(LIBRARIES, f"1.{version % 4}.0"),
            "seed": 42,
            "durations": {"search": 30.0, "fit": 4.0, "calibrate": 1.0, "threshold": 0.2},
            "artefact": {"sha256": "ab" * 32, "size_bytes": 250_000},
        }
    )


def build_registry(wh: Warehouse, versions: int, seed: int = 7) -> dict[str, int]:
    """``versions`` models with evaluations, segments, aliases and history; returns the
    final ``{"champion": v, "challenger": v}``."""
    rng = np.random.default_rng(seed)
    payloads = _payloads(rng)
    start = utcnow().replace(microsecond=0) - timedelta(days=versions)
    champion: int | None = None
    challenger: int | None = None
    history: list[tuple] = []
    with wh.transaction() as cur:
        for b in range(1, BATCHES + 1):
            cur.execute(
                "INSERT INTO raw_batches VALUES (?, 1, 'csv', ?, 'raw/x', 1, ?, 42000, ?, "
                "'accepted', NULL)",
                [b, f"m{b}.csv", f"h{b}", start],
            )
        for v in range(1, versions + 1):
            at = start + timedelta(days=v)
            own = payloads[v % VARIANTS]
            m = own["metrics"]
            promote = champion is None or v % 5 == 1
            evaluations = [(v, own)]
            if champion is not None:
                evaluations.append((champion, payloads[champion % VARIANTS]))
            for evaluated, ev in evaluations:
                cur.execute(
                    "INSERT INTO model_evaluations VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        v,
                        evaluated,
                        _month(v + 13),
                        _month(v + 13),
                        ev["threshold"],
                        json.dumps(ev["metrics"]),
                        ev["curves"],
                    ],
                )
                cur.executemany(
                    "INSERT INTO model_segment_metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        [v, evaluated, s["column"], str(s["value"]), s["rows"], s["positives"]]
                        + [s[k] for k in ("roc_auc", "pr_auc", "brier")]
                        + [s[k] for k in ("precision", "recall", "flag_rate")]
                        for s in ev["segments"]
                    ],
                )
            summary = f"v{v} {'beat' if promote else 'did not beat'} the champion; " + (
                "promoted." if promote else "stays challenger."
            )
            gate = {
                "promote": promote,
                "summary": summary,
                "checks": [{"check": "margin", "passed": promote, "sentence": summary}],
            }
            cur.execute(
                "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, "
                "sha256, size_bytes, train_rows, holdout_rows, train_from, train_to, "
                "holdout_from, holdout_to, roc_auc, pr_auc, brier, log_loss, features, params, "
                "fit_seconds, calibration, threshold, f1_threshold, seed, metrics, search, "
                f"lineage, gate) VALUES ({', '.join(['?'] * 28)})",
                [
                    v,
                    v,
                    at,
                    "hist_gradient_boosting",
                    f"models/v{v}.skops",
                    "ab" * 32,
                    250_000,
                    500_000,
                    WINDOW_ROWS,
                    _month(v),
                    _month(v + 12),
                    _month(v + 13),
                    _month(v + 13),
                    m["roc_auc"],
                    m["pr_auc"],
                    m["brier"],
                    m["log_loss"],
                    json.dumps({"categorical": list(SEGMENTS), "numeric": ["tenure_months"]}),
                    json.dumps({"learning_rate": 0.1, "max_leaf_nodes": 31}),
                    35.2,
                    "sigmoid",
                    own["threshold"],
                    0.3,
                    42,
                    json.dumps(m),
                    json.dumps({"trials": [{"mean_auc": 0.8, "seconds": 3.0}] * 8}),
                    _lineage(v, min(BATCHES, 24 + v // 4)),
                    json.dumps(gate),
                ],
            )
            if promote:
                if champion is not None:
                    history.append(("archived", champion, at, f"replaced by v{v}"))
                champion = v
                history.append(("champion", v, at, summary))
            else:
                if challenger is not None:
                    history.append(("archived", challenger, at, f"superseded by v{v}"))
                challenger = v
                history.append(("challenger", v, at, summary))
        cur.executemany(
            "INSERT INTO alias_history (alias, version, set_at, reason, run_id) "
            "VALUES (?, ?, ?, ?, ?)",
            [[a, v, at, reason, v] for a, v, at, reason in history],
        )
        cur.execute(
            "INSERT INTO model_aliases VALUES ('champion', ?, ?, 'gate')", [champion, start]
        )
        if challenger is not None:
            cur.execute(
                "INSERT INTO model_aliases VALUES ('challenger', ?, ?, 'gate')", [challenger, start]
            )
        summary = {
            "promote": {"reason": f"promoted v{champion} by bench: faster", "rescored": None}
        }
        cur.execute(
            "INSERT INTO runs (run_id, trigger, triggered_by, status, started_at, finished_at, "
            "summary) VALUES (1000, 'promotion', 'bench', 'succeeded', ?, ?, ?)",
            [start, start, json.dumps(summary)],
        )
    raise_alert(wh, "critical", "artefact_refused", "v3", "Model v3 was refused: bad hash.")
    return {"champion": int(champion or 0), "challenger": int(challenger or 0)}


NoUpdate = type(no_update)


def _answer(value: Any) -> Any:
    """The callback's answer as Dash sends it: ``no_update`` parts are left out."""
    if isinstance(value, dict):
        return {k: _answer(v) for k, v in value.items() if not isinstance(v, NoUpdate)}
    if isinstance(value, tuple | list):
        return [None if isinstance(v, NoUpdate) else _answer(v) for v in value]
    return None if isinstance(value, NoUpdate) else value


def _sent(fn: Callable[[], Any]) -> Callable[[], str]:
    return lambda: to_json_plotly(_answer(fn()))


def _time_sent_all(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Every time in ms of calling ``fn`` and encoding its answer as Dash sends it, after one
    warm-up call (first query plans, Dash component classes)."""
    call = _sent(fn)
    call()
    return _timed(call, repeat)


def _time_sent(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """p50 and p95 in ms of ``_time_sent_all``."""
    timings = _time_sent_all(fn, repeat)
    return statistics.median(timings), _p95(timings)


def _built(wh: Warehouse, tables: Sequence[str], started: float) -> str:
    """``"built t: 1,234, ... in 1.2 s"`` and a newline: what a benchmark's warehouse holds and
    how long building it took since ``started`` (``time.perf_counter()``)."""
    counts = {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in tables}
    return (
        "built "
        + ", ".join(f"{t}: {n:,}" for t, n in counts.items())
        + f" in {time.perf_counter() - started:.1f} s\n"
    )


def _busy(trigger: str, user: str | None, **flow: Any) -> RunRequest:
    """A run starter that always answers "already running": no timed callback starts a run."""
    return RunRequest(False, 1001, "already running (run #1001, started by bench)")


def models_cases(rng: random.Random, aliases: dict[str, int]) -> dict[str, Callable[[], Any]]:
    """Each Model review callback as a no-argument call with varied inputs (app already made)."""
    from app.pages import _models_promotion as promotion
    from app.pages import models

    store = models.load_state(models.services()).as_store()
    versions = store["versions"]
    champion, challenger = aliases["champion"], aliases["challenger"]

    def pair() -> tuple[int, int]:
        return rng.choice([(champion, challenger), tuple(rng.sample(versions, 2))])  # type: ignore[return-value]

    stale = {**store, "signature": "before the promotion"}
    run = {"run_id": 1000, "action": "promote", "version": champion}
    return {
        "layout (first paint)": lambda: models.layout(),
        "layout (?a=..&b=..)": lambda: models.layout(*map(str, pair())),
        "poll_data (unchanged)": lambda: models.poll_data(1, None, store, champion, challenger, 1),
        "poll_data (registry changed)": lambda: models.poll_data(
            1, 1000, stale, champion, challenger, 1
        ),
        "update_registry (list, trend, history)": lambda: models.update_registry(store),
        "compare_clicked": lambda: models.compare_clicked(
            {"rowId": str(rng.choice(versions))}, store
        ),
        "update_comparison": lambda: models.update_comparison(*pair(), store),
        "update_curves (5 charts)": lambda: models.update_curves(*pair(), store),
        "update_threshold": lambda: models.update_threshold(
            round(rng.uniform(0.05, 0.9), 3), *pair(), store
        ),
        "update_lineage": lambda: models.update_lineage(*pair(), store),
        "update_actions": lambda: promotion.update_actions(rng.choice(versions), store),
        "write_url": lambda: models.write_url(*pair(), store),
        "ask_promote": lambda: promotion.ask_promote(1, challenger),
        "ask_rollback": lambda: promotion.ask_rollback(1),
        "confirm (already running)": lambda: promotion.confirm(
            1, {"action": "promote", "version": challenger}, "benchmark comment"
        ),
        "poll_run (finished)": lambda: promotion.poll_run(1, run),
        "show_card": lambda: models.show_card(1, rng.choice(versions), store),
        "download_card": lambda: models.download_card(1, None, rng.choice(versions), store),
    }


def main(argv: list[str] | None = None) -> int:
    """Build the registry, time every callback against the baseline; 1 if over the goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30)
    add_json_argument(parser)
    args = parser.parse_args(argv)

    from app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=tmp)
        started = time.perf_counter()
        wh = Warehouse(Path(tmp) / "warehouse.duckdb")
        aliases = build_registry(wh, args.versions)
        tables = ("models", "alias_history", "model_evaluations", "model_segment_metrics")
        sys.stdout.write(_built(wh, tables, started))
        create_app(settings, wh, _busy)
        baseline = _timed(lambda: wh.read("SELECT 1"), args.repeat)
        base = statistics.median(baseline)
        head = f"{'callback':40} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}\n"
        sys.stdout.write(head)
        sys.stdout.write(
            f"{'baseline: SELECT 1 via Warehouse.read':40} {base:8.1f} {_p95(baseline):8.1f} "
            f"{1.0:15.1f}\n"
        )
        worst = 0.0
        results = {}
        for name, fn in models_cases(random.Random(7), aliases).items():
            timings = _time_sent_all(fn, args.repeat)
            results[name] = spread(timings)
            p50, p95 = statistics.median(timings), _p95(timings)
            worst = max(worst, p95)
            sys.stdout.write(f"{name:40} {p50:8.1f} {p95:8.1f} {p50 / base:15.1f}\n")
        sys.stdout.write(f"worst p95 {worst:.1f} ms (goal {GOAL_MS} ms)\n")
        write_json(
            args.json,
            {
                "bench": "models_page",
                "versions": args.versions,
                "repeat": args.repeat,
                "unit": "ms",
                "baselines": {"SELECT 1 via Warehouse.read": spread(baseline)},
                "callbacks": results,
            },
        )
        wh.close()
    return 1 if worst > GOAL_MS else 0


if __name__ == "__main__":
    raise SystemExit(main())
