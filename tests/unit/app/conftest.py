"""Fixtures for the web UI tests: a temporary warehouse with a small known world, and an app.

The page modules call ``dash.register_page`` when imported, which Dash allows only once an app
exists, so tests reach them through the ``overview`` and ``runs_page`` fixtures (which build the
app first) rather than importing them at the top.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dash.development.base_component import Component

from pipeline.runner import RunRequest
from pipeline.settings import Settings, load_settings
from pipeline.warehouse import Warehouse

PERIODS = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"])
LABELLED_PERIODS = 3  # April's labels have not arrived yet
CUSTOMERS = 40
SEGMENTS = ["region", "plan", "contract_type"]
NOW = datetime(2024, 5, 2, 12, 3)


def synthetic_facts() -> pd.DataFrame:
    """40 customers x 4 months with known segments, probabilities, values and labels."""
    rng = np.random.default_rng(7)
    rows = []
    for p, period in enumerate(PERIODS):
        for i in range(CUSTOMERS):
            probability = float(rng.uniform(0.02, 0.6))
            rows.append(
                {
                    "period": period,
                    "entity_id": f"C{i:03d}",
                    "probability": probability,
                    "model_version": 1 if p < 2 else 2,
                    "value": np.nan if i % 10 == 0 else 20.0 + i,
                    "label": int(rng.uniform() < probability) if p < LABELLED_PERIODS else None,
                    "region": ("North", "South")[i % 2],
                    "plan": ("Basic", "Premium")[(i // 2) % 2],
                    "contract_type": ("Monthly", "Yearly")[(i // 4) % 2],
                }
            )
    facts = pd.DataFrame(rows)
    facts["label"] = facts["label"].astype("Int64")
    return facts


def write_serving_facts(wh: Warehouse, facts: pd.DataFrame) -> None:
    """Publish ``facts`` as serving_facts with the flow's column types."""
    with wh.transaction() as cur:
        cur.register("facts_frame", facts)
        cur.execute("DROP TABLE IF EXISTS serving_facts")
        cur.execute(
            "CREATE TABLE serving_facts AS SELECT CAST(period AS DATE) AS period, "
            "CAST(entity_id AS VARCHAR) AS entity_id, CAST(probability AS DOUBLE) AS probability, "
            "CAST(model_version AS INTEGER) AS model_version, CAST(value AS DOUBLE) AS value, "
            "CAST(label AS INTEGER) AS label, CAST(region AS VARCHAR) AS region, "
            "CAST(plan AS VARCHAR) AS plan, CAST(contract_type AS VARCHAR) AS contract_type "
            "FROM facts_frame"
        )
        cur.unregister("facts_frame")


def write_history(wh: Warehouse) -> None:
    """Two finished runs (the second failed), models v1/v2 with v2 champion, two raw batches."""
    t0 = NOW - timedelta(hours=3)
    steps = [("ingest", 2.0), ("validate", 1.0), ("clean", 3.0), ("train", 40.0), ("score", 5.0)]
    with wh.transaction() as cur:
        cur.execute(
            "INSERT INTO runs (run_id, trigger, triggered_by, status, started_at, finished_at, "
            "duration_s, current_step, error, summary) "
            "VALUES (1, 'schedule', NULL, 'succeeded', ?, ?, 51.0, NULL, NULL, "
            "NULL)",
            [t0, t0 + timedelta(seconds=51)],
        )
        for pos, (step, seconds) in enumerate(steps):
            cur.execute(
                "INSERT INTO run_steps VALUES (1, ?, ?, 'succeeded', ?, ?, ?, 160, 158, NULL, "
                "NULL)",
                [pos, step, t0, t0, seconds],
            )
        t1 = t0 + timedelta(hours=1)
        cur.execute(
            "INSERT INTO runs (run_id, trigger, triggered_by, status, started_at, finished_at, "
            "duration_s, current_step, error, summary) "
            "VALUES (2, 'manual', 'alice', 'failed', ?, ?, 6.0, NULL, ?, NULL)",
            [t1, t1 + timedelta(seconds=6), "clean: 3 rows have negative monthly_charges"],
        )
        for pos, (step, status) in enumerate(
            [("ingest", "succeeded"), ("validate", "succeeded"), ("clean", "failed")]
        ):
            cur.execute(
                "INSERT INTO run_steps VALUES (2, ?, ?, ?, ?, ?, 2.0, 160, 160, NULL, ?)",
                [
                    pos,
                    step,
                    status,
                    t1,
                    t1,
                    "3 rows have negative monthly_charges" if status == "failed" else None,
                ],
            )
        for version, auc in ((1, 0.74), (2, 0.812)):
            cur.execute(
                "INSERT INTO models VALUES (?, 1, ?, 'logistic', ?, 'sha', 1, 100, 40, NULL, "
                "'2024-02-01', NULL, '2024-03-01', ?, 0.4, 0.1, 0.3, '[]', '{}', 1.0, "
                "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
                [version, t0, f"models/v{version}.skops", auc],
            )
        cur.execute("INSERT INTO model_aliases VALUES ('champion', 2, ?, 'best auc')", [t0])
        for batch, arrived in ((1, NOW - timedelta(days=30)), (2, NOW)):
            cur.execute(
                "INSERT INTO raw_batches VALUES (?, 1, 'csv', ?, ?, 10, ?, 40, ?, 'ingested', "
                "NULL)",
                [batch, f"b{batch}.csv", f"raw/b{batch}.csv", f"hash{batch}", arrived],
            )


@dataclass
class FakeStartRun:
    """Records requests; answers "started" unless a run is said to be active."""

    active_run: int | None = None
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def __call__(self, trigger: str, user: str | None) -> RunRequest:
        self.calls.append((trigger, user))
        if self.active_run is not None:
            return RunRequest(False, self.active_run, f"already running (run #{self.active_run})")
        return RunRequest(True, 12, "Run #12 started")


@pytest.fixture
def facts() -> pd.DataFrame:
    """The synthetic serving facts, as written to the warehouse."""
    return synthetic_facts()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default (demo) settings in a temporary data dir."""
    return load_settings(data_dir=tmp_path)


@pytest.fixture
def empty_warehouse(tmp_path: Path) -> Warehouse:
    """A migrated warehouse with nothing in it: before the first run."""
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    yield wh
    wh.close()


@pytest.fixture
def warehouse(empty_warehouse: Warehouse, facts: pd.DataFrame) -> Warehouse:
    """A warehouse after two runs: serving_facts, runs, steps, models, champion, batches."""
    write_history(empty_warehouse)
    write_serving_facts(empty_warehouse, facts)
    return empty_warehouse


@pytest.fixture
def publish():
    """``publish(wh)``: what a first successful run leaves behind (history and serving facts)."""

    def _publish(wh: Warehouse) -> None:
        write_history(wh)
        write_serving_facts(wh, synthetic_facts())

    return _publish


@pytest.fixture
def start_run() -> FakeStartRun:
    """A fake owner process."""
    return FakeStartRun()


@pytest.fixture
def make_app(settings: Settings, start_run: FakeStartRun):
    """``make_app(warehouse)`` builds the Dash app over that warehouse with the fake start_run."""
    from app import create_app

    return lambda wh: create_app(settings, wh, start_run)


@pytest.fixture
def app(make_app, warehouse: Warehouse):
    """The app over the populated warehouse."""
    return make_app(warehouse)


def _page(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.fixture
def overview(app) -> ModuleType:
    """The Overview page module, with the populated warehouse installed."""
    return _page("app.pages.overview")


@pytest.fixture
def runs_page(app) -> ModuleType:
    """The Runs page module, with the populated warehouse installed."""
    return _page("app.pages.runs")


# -- reading component trees -------------------------------------------------------------------


def texts(node: Any) -> str:
    """All text in a component tree, joined by spaces."""
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(" ".join(texts(n) for n in node).split())
    if isinstance(node, Component):
        return texts(getattr(node, "children", None))
    return ""


def find_all(node: Any, predicate) -> list[Component]:
    """Every component in the tree for which ``predicate(component)`` is true."""
    found: list[Component] = []
    if isinstance(node, list | tuple):
        for n in node:
            found += find_all(n, predicate)
    elif isinstance(node, Component):
        if predicate(node):
            found.append(node)
        found += find_all(getattr(node, "children", None), predicate)
    return found


def by_class(node: Any, class_name: str) -> list[Component]:
    """Components whose className or class_name contains ``class_name``."""

    def has(c: Component) -> bool:
        names = f"{getattr(c, 'className', '') or ''} {getattr(c, 'class_name', '') or ''}"
        return class_name in names.split()

    return find_all(node, has)


@pytest.fixture
def ui() -> SimpleNamespace:
    """Helpers to read component trees: ``texts``, ``find_all``, ``by_class``."""
    return SimpleNamespace(texts=texts, find_all=find_all, by_class=by_class)
