"""Server-side timings of the Explain page's callbacks on a real trained model.

Builds a demo world (``--customers`` per month, 10 months) in a temporary data dir and runs the
real pipeline once: ingest, clean, train (a real model artefact), score, explain (the stored
global explanation of the holdout and of the latest scored month: 8 features x 1,000 points
each) and fairness. A second, synthetic explanation of 15 features x 1,000 points is stored
for an extra archived version, to time the global charts at the upper end. Then calls every
callback of the page (and the Model review fairness card) as a plain function, encodes its
answer as JSON as Dash does, and prints p50 and p95 in milliseconds next to a baseline measured
in the same run: a bare ``SELECT 1`` through ``Warehouse.read``.

The local explanation callbacks use the real ``LocalExplanations`` of the app's services: the
first call of a version loads and verifies the artefact and builds its explainer (timed once,
reported apart); after that each new customer or what-if is one SHAP row. Goal: p95 under
300 ms per callback.

    python benchmarks/bench_explain_page.py [--customers 5000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _jsonout import add_json_argument, spread, write_json
from bench_data_page import _p95, _timed  # the timing helpers every page benchmark shares
from bench_models_page import _built, _time_sent_all  # shared by the page benchmarks

from pipeline.demo import build_demo_files
from pipeline.democlock import DemoClock
from pipeline.runner import Runner
from pipeline.settings import load_settings
from pipeline.warehouse import Warehouse, utcnow

GOAL_MS = 300
SYNTHETIC_VERSION = 99
SYNTHETIC_FEATURES = 15
POINTS = 1_000


def store_synthetic_explanation(wh: Warehouse, version: int, features: int, points: int) -> None:
    """An archived ``version`` with a holdout explanation of ``features`` x ``points`` rows."""
    rng = np.random.default_rng(3)
    names = [f"feature_{i:02d}" for i in range(features)]
    now = utcnow()
    with wh.transaction() as cur:
        cur.execute(
            "INSERT INTO models (version, run_id, created_at, algorithm, artefact_path, sha256, "
            "size_bytes, train_rows, holdout_rows, roc_auc, features, params) VALUES "
            "(?, 1, ?, 'synthetic', 'none', 'none', 1, 1, 1, 0.8, '{}', '{}')",
            [version, now],
        )
        cur.execute(
            "INSERT INTO explain_meta VALUES (?, 'holdout', -2.0, 0.12, 5000, 1.0, ?)",
            [version, now],
        )
        sizes = np.sort(rng.uniform(0.2, 6.0, features))[::-1]
        cur.executemany(
            "INSERT INTO explain_importance VALUES (?, 'holdout', ?, ?, ?, ?, ?, ?)",
            [
                [version, n, s / 40, s, s / sizes.sum(), i + 1, "higher values raise risk"]
                for i, (n, s) in enumerate(zip(names, sizes, strict=True))
            ],
        )
        rows = []
        for k, name in enumerate(names):
            categorical = k % 3 == 0
            values = rng.uniform(0, 100, points)
            for r in range(points):
                rows.append(
                    [
                        version,
                        "holdout",
                        name,
                        r,
                        None if categorical else float(values[r]),
                        f"cat{r % 5}" if categorical else f"{values[r]:.2f}",
                        float(rng.normal(0, 0.3)),
                        float(rng.normal(0, sizes[k])),
                        (r % 5) / 4 if categorical else float(values[r] / 100),
                        names[(k + 1) % features],
                        "12",
                        float(rng.uniform()),
                    ]
                )
        cur.executemany(f"INSERT INTO explain_points VALUES ({', '.join(['?'] * 12)})", rows)


def explain_cases(rng: random.Random, entities: list[str]) -> dict[str, Callable[[], Any]]:
    """Each Explain callback as a no-argument call with varied inputs (app already made)."""
    from app.pages import _explain_customer as customer
    from app.pages import _models_fairness as card
    from app.pages import explain
    from app.services import services

    svc = services()
    store = explain.layout()[explain.Ids.STORE].data
    champion = store["default"]
    features = explain._features(champion, "holdout")
    numeric = [f for f in features if f in {"tenure_months", "monthly_charges", "usage_gb"}]
    categorical = [f for f in features if f not in numeric]
    synthetic = explain._features(SYNTHETIC_VERSION, "holdout")
    fresh = iter(entities)  # customers not explained yet: a cache miss each time

    def form(entity: str, tenure: float) -> tuple[list, list]:
        result = svc.explanations().explain(champion, entity)
        values = [tenure if f == "tenure_months" else result.inputs[f] for f in result.features]
        values = [None if isinstance(v, float) and np.isnan(v) else v for v in values]
        return values, [{"type": customer.WHATIF_FIELD, "feature": f} for f in result.features]

    whatif_entity = entities[-1]
    svc.explanations().explain(champion, whatif_entity)
    tenures = iter(range(1, 100_000))
    models_store = {"versions": store["versions"]}
    return {
        "layout (first paint)": lambda: explain.layout(),
        "layout (?v&entity&feature)": lambda: explain.layout(
            v=str(champion), entity=rng.choice(entities), feature=rng.choice(features)
        ),
        "choose_scope (version change)": lambda: explain.choose_scope(
            str(champion), store, "holdout", rng.choice(features)
        ),
        "update_global (8 features)": lambda: explain.update_global(
            champion, rng.choice(["holdout", None]), store
        ),
        "update_global (15 features, synthetic)": lambda: explain.update_global(
            SYNTHETIC_VERSION, "holdout", store
        ),
        "update_dependence (number)": lambda: explain.update_dependence(
            champion, "holdout", rng.choice(numeric), store
        ),
        "update_dependence (category)": lambda: explain.update_dependence(
            champion, "holdout", rng.choice(categorical), store
        ),
        "update_dependence (15 features)": lambda: explain.update_dependence(
            SYNTHETIC_VERSION, "holdout", rng.choice(synthetic), store
        ),
        "update_riskiest": lambda: customer.update_riskiest(store),
        "suggest": lambda: customer.suggest(rng.choice(entities)[:4]),
        "pick_entity": lambda: customer.pick_entity({"rowId": rng.choice(entities)}),
        "explain_customer (new customer)": lambda: customer.explain_customer(
            next(fresh), champion, store
        ),
        "explain_customer (cached)": lambda: customer.explain_customer(
            entities[0], champion, store
        ),
        "recompute (new what-if)": lambda: customer.recompute(
            1, *form(whatif_entity, float(next(tenures) % 500)), whatif_entity, champion, store
        ),
        "recompute (refused value)": lambda: customer.recompute(
            1, *form(whatif_entity, 99_999.0), whatif_entity, champion, store
        ),
        "update_fairness (3 columns, 6 charts)": lambda: explain.update_fairness(champion, store),
        "models card: update_fairness": lambda: card.update_fairness(champion, models_store),
        "models card: show charts": lambda: card.toggle_fairness_charts(1, champion, models_store),
        "write_url": lambda: explain.write_url(
            champion, "holdout", rng.choice(entities), rng.choice(features), store
        ),
        "poll_data (unchanged)": lambda: explain.poll_data(1, store, str(champion)),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline once, time every callback against the baseline; 1 if over the goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=30)
    add_json_argument(parser)
    args = parser.parse_args(argv)

    from app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        demo = {"customers": args.customers, "months": 10, "initial_months": 5}
        settings = load_settings(data_dir=Path(tmp) / "data", demo=demo)
        build_demo_files(Path(tmp) / "files", seed=42, customers=args.customers, months=10)
        shutil.copytree(Path(tmp) / "files", settings.data_dir / "demo")
        wh = Warehouse(settings.warehouse_path)
        runner = Runner(settings, wh)
        started = time.perf_counter()
        DemoClock(settings, wh).advance()
        _, reason = runner.run_now("bench")
        if reason is not None:
            sys.stderr.write(f"the pipeline run failed: {reason}\n")
            return 2
        store_synthetic_explanation(wh, SYNTHETIC_VERSION, SYNTHETIC_FEATURES, POINTS)
        tables = ("serving_facts", "explain_importance", "explain_points", "fairness_groups")
        sys.stdout.write(_built(wh, tables, started))
        create_app(settings, wh, runner.start_run)
        from app.pages import explain  # pages register themselves once an app exists
        from app.services import services

        latest = wh.read(
            "SELECT entity_id FROM serving_facts WHERE period = (SELECT max(period) "
            "FROM serving_facts) ORDER BY entity_id"
        )["entity_id"].tolist()
        entities = random.Random(1).sample(latest, 200)
        champion = explain.layout()[explain.Ids.STORE].data["default"]
        cold = time.perf_counter()
        services().explanations().explain(champion, entities[0])
        cold_ms = (time.perf_counter() - cold) * 1000

        baseline = _timed(lambda: wh.read("SELECT 1"), args.repeat)
        base = statistics.median(baseline)
        out = [f"{'callback':42} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}"]
        out.append(
            f"{'baseline: SELECT 1 via Warehouse.read':42} {base:8.1f} {_p95(baseline):8.1f} "
            f"{1.0:15.1f}"
        )
        worst = 0.0
        results = {}
        for name, fn in explain_cases(random.Random(7), entities[1:]).items():
            timings = _time_sent_all(fn, args.repeat)
            results[name] = spread(timings)
            p50, p95 = statistics.median(timings), _p95(timings)
            worst = max(worst, p95)
            out.append(f"{name:42} {p50:8.1f} {p95:8.1f} {p50 / base:15.1f}")
        out.append(
            f"first local explanation of a version (load + verify artefact, build explainer): "
            f"{cold_ms:.0f} ms, once per version per process"
        )
        out.append(f"worst p95 {worst:.1f} ms (goal {GOAL_MS} ms)")
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.write(json.dumps({"worst_p95_ms": round(worst, 1)}) + "\n")
        write_json(
            args.json,
            {
                "bench": "explain_page",
                "customers": args.customers,
                "months": 10,
                "demo_rows": args.customers * 10,
                "scored_rows": wh.scalar("SELECT count(*) FROM serving_facts"),
                "repeat": args.repeat,
                "unit": "ms",
                "cold_explainer_ms": cold_ms,
                "baselines": {"SELECT 1 via Warehouse.read": spread(baseline)},
                "callbacks": results,
            },
        )
        runner.shutdown()
        wh.close()
    return 1 if worst > GOAL_MS else 0


if __name__ == "__main__":
    raise SystemExit(main())
