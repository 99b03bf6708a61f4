"""Writing monitoring results with the run's publication: drift, performance, data quality,
retrain decisions and the score reference of a new model.

Every function runs on the publishing cursor inside its transaction, so a reader sees a run's
monitoring together with its predictions, or none of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipeline.warehouse import alerts
from pipeline.warehouse.connection import utcnow

DRIFT_COLUMNS = (
    "period", "column_name", "kind", "segment_column", "segment_value", "reference_version",
    "reference_from", "reference_to", "method", "statistic", "threshold", "p_value", "drifted",
    "severity", "rows_reference", "rows_current", "histogram", "sentence",
)  # fmt: skip
PERFORMANCE_COLUMNS = (
    "period", "kind", "segment_column", "segment_value", "metric", "value", "low", "high",
    "rows", "model_version",
)  # fmt: skip


@dataclass
class Decision:
    """What the retrain policy decided in a run, in words."""

    trigger: str  # schedule | drift | performance | manual | first
    action: str  # retrain | wait | cooldown | none
    reason: str
    period: date | None = None
    model_version: int | None = None
    promoted: bool | None = None
    outcome: str | None = None
    evidence: date | None = None  # the month whose data fired the trigger (not stored apart)


@dataclass
class MonitorRecord:
    """Everything the monitor step of one run publishes."""

    drift: list[dict[str, Any]] = field(default_factory=list)
    realised: pd.DataFrame | None = None
    realised_periods: list[date] = field(default_factory=list)
    drafts: list[alerts.AlertDraft] = field(default_factory=list)
    clears: list[tuple[str, str, str]] = field(default_factory=list)
    quality: pd.DataFrame | None = None
    references: list[tuple[str, int | None, str]] = field(default_factory=list)  # key, v, JSON
    raised: list[int] = field(default_factory=list)  # filled when published


def _insert_frame(cur: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    cur.register("_monitor_rows", frame)
    try:
        cur.execute(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM _monitor_rows")
    finally:
        cur.unregister("_monitor_rows")


def write_drift(cur: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], run_id: int) -> None:
    """Insert (or replace) drift rows: one per period, column and segment value."""
    if not rows:
        return
    frame = pd.DataFrame([{k: r.get(k) for k in DRIFT_COLUMNS} for r in rows])
    frame["histogram"] = [
        h if isinstance(h, str) else json.dumps(h, allow_nan=False) for h in frame["histogram"]
    ]
    frame["run_id"] = run_id
    _insert_frame(cur, "drift_results", frame)


def write_performance(
    cur: duckdb.DuckDBPyConnection,
    kind: str,
    rows: pd.DataFrame | list[dict[str, Any]],
    periods: list[date],
    run_id: int,
) -> None:
    """Replace the ``kind`` ("estimated" or "realised") performance of ``periods``."""
    if periods:
        cur.execute(
            "DELETE FROM performance WHERE kind = ? AND list_contains(?, period)", [kind, periods]
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return
    frame["kind"] = kind
    for column in ("low", "high"):
        if column not in frame:
            frame[column] = None
    frame = frame.loc[:, list(PERFORMANCE_COLUMNS)]
    frame["run_id"] = run_id
    _insert_frame(cur, "performance", frame)


def write_decision(cur: duckdb.DuckDBPyConnection, d: Decision, run_id: int) -> None:
    """Append one retrain decision."""
    next_id = cur.execute("SELECT coalesce(max(decision_id), 0) + 1 FROM retrain_decisions")
    cur.execute(
        "INSERT INTO retrain_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            next_id.fetchone()[0], utcnow(), run_id, d.period, d.trigger, d.action, d.reason,
            d.model_version, d.promoted, d.outcome,
        ],
    )  # fmt: skip


def set_score_reference(cur: duckdb.DuckDBPyConnection, version: int, ref: dict) -> None:
    """Store a model's holdout score histogram: the baseline of its prediction drift."""
    cur.execute(
        "UPDATE models SET score_reference = ? WHERE version = ?", [json.dumps(ref), version]
    )


def write_quality(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame, run_id: int) -> None:
    """Replace the whole data-quality series (it is recomputed from batch statistics)."""
    cur.execute("DELETE FROM data_quality")
    if not frame.empty:
        _insert_frame(cur, "data_quality", frame.assign(run_id=run_id))


def publish_monitoring(cur: duckdb.DuckDBPyConnection, m: MonitorRecord, run_id: int) -> None:
    """Write the monitor step's drift, realised performance and alerts."""
    write_drift(cur, m.drift, run_id)
    for key, version, payload in m.references:
        cur.execute(
            "INSERT OR REPLACE INTO monitor_references VALUES (?, ?, ?, ?)",
            [key, utcnow(), version, payload],
        )
    if m.quality is not None:
        write_quality(cur, m.quality, run_id)
    if m.realised is not None:
        write_performance(cur, "realised", m.realised, m.realised_periods, run_id)
    m.raised = alerts.write_drafts(cur, m.drafts, run_id, m.clears)
