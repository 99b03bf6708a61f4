"""Named reads behind the Model review page; the only SQL that page runs.

Every read returns plain data with the documented columns (empty frames before the first
model) and binds every value.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from pipeline.warehouse.connection import Warehouse

VERSION_COLUMNS = [
    "version",
    "created_at",
    "algorithm",
    "calibration",
    "alias",
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "threshold",
    "train_rows",
    "holdout_from",
    "holdout_to",
    "fit_seconds",
    "decision",
]


def versions(wh: Warehouse) -> pd.DataFrame:
    """Every model version, newest first.

    Columns: version, created_at, algorithm, calibration, alias (champion | challenger |
    archived), roc_auc, pr_auc, brier, log_loss, threshold, train_rows, holdout_from,
    holdout_to, fit_seconds, decision (the gate's summary in words, or None).
    """
    return wh.read(
        "SELECT m.version, m.created_at, m.algorithm, m.calibration, "
        "coalesce(a.alias, 'archived') AS alias, m.roc_auc, m.pr_auc, m.brier, m.log_loss, "
        "m.threshold, m.train_rows, m.holdout_from, m.holdout_to, m.fit_seconds, "
        "json_extract_string(m.gate, '$.summary') AS decision "
        "FROM models m LEFT JOIN model_aliases a USING (version) ORDER BY m.version DESC"
    )


def alias_history(wh: Warehouse, limit: int = 500) -> pd.DataFrame:
    """Alias changes, newest first.

    Columns: set_at, alias, version, reason, actor (None for the pipeline), comment, run_id.
    """
    return wh.read(
        "SELECT set_at, alias, version, reason, actor, comment, run_id FROM alias_history "
        "ORDER BY set_at DESC, version DESC LIMIT ?",
        [limit],
    )


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def model_detail(wh: Warehouse, version: int) -> dict[str, Any] | None:
    """One version's full record: the registry columns plus parsed ``params``, ``metrics``,
    ``search``, ``lineage``, ``gate`` and ``features``; None if there is no such version."""
    frame = wh.read(
        "SELECT m.*, coalesce(a.alias, 'archived') AS alias FROM models m "
        "LEFT JOIN model_aliases a USING (version) WHERE m.version = ?",
        [version],
    )
    if frame.empty:
        return None
    record = frame.iloc[0].to_dict()
    for key in ("params", "metrics", "search", "lineage", "gate", "features"):
        record[key] = _loads(record.get(key))
    return {k: (None if _is_missing(v) else v) for k, v in record.items()}


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def evaluation(wh: Warehouse, model_version: int, evaluated_version: int) -> dict | None:
    """How ``evaluated_version`` did on ``model_version``'s holdout window.

    Keys: window_from, window_to, threshold, metrics (dict), curves (dict); None if not measured.
    """
    rows = wh.rows(
        "SELECT window_from, window_to, threshold, metrics, curves FROM model_evaluations "
        "WHERE model_version = ? AND evaluated_version = ?",
        [model_version, evaluated_version],
    )
    if not rows:
        return None
    start, end, threshold, metrics, curves = rows[0]
    return {
        "window_from": start,
        "window_to": end,
        "threshold": threshold,
        "metrics": json.loads(metrics),
        "curves": json.loads(curves),
    }


def comparison(wh: Warehouse, a: int, b: int) -> dict[str, Any]:
    """Evaluations of versions ``a`` and ``b`` for a side-by-side view.

    Both on the same window when the newer one was measured against the older (the gate's
    comparison); otherwise each on its own holdout. Keys: same_window (bool), window (the
    newer version's holdout, as "from"/"to" dates), a, b (evaluation dicts or None).
    """
    newer, older = max(a, b), min(a, b)
    shared = evaluation(wh, newer, older)
    own_newer = evaluation(wh, newer, newer)
    if shared is not None and own_newer is not None:
        evals = {newer: own_newer, older: shared}
        same = True
    else:
        evals = {newer: own_newer, older: evaluation(wh, older, older)}
        same = False
    window = None
    if own_newer is not None:
        window = {"from": own_newer["window_from"], "to": own_newer["window_to"]}
    return {"same_window": same, "window": window, "a": evals[a], "b": evals[b]}


SEGMENT_COLUMNS = [
    "column_name",
    "value",
    "rows",
    "positives",
    "roc_auc",
    "pr_auc",
    "brier",
    "precision",
    "recall",
    "flag_rate",
]


def segment_metrics(wh: Warehouse, model_version: int, evaluated_version: int) -> pd.DataFrame:
    """Per-segment metrics of ``evaluated_version`` on ``model_version``'s holdout.

    Columns: column_name, value, rows, positives, roc_auc, pr_auc, brier, precision, recall,
    flag_rate; ordered by column and value.
    """
    return wh.read(
        f"SELECT {', '.join(SEGMENT_COLUMNS)} FROM model_segment_metrics "
        "WHERE model_version = ? AND evaluated_version = ? ORDER BY column_name, value",
        [model_version, evaluated_version],
    )


def batches(wh: Warehouse, ids: list[int]) -> pd.DataFrame:
    """Raw batches by id. Columns: batch_id, kind, file_name, row_count, arrived_at, status."""
    return wh.read(
        "SELECT batch_id, kind, file_name, row_count, arrived_at, status FROM raw_batches "
        "WHERE list_contains(?, batch_id) ORDER BY batch_id",
        [ids],
    )
