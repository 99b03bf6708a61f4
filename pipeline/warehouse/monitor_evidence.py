"""Reads for the retrain policy and the alert rules: what monitoring has published so far."""

from __future__ import annotations

from datetime import date
from typing import Any

from pipeline.warehouse.connection import Warehouse

AUTOMATIC = ("drift", "performance", "schedule")


def _records(frame) -> list[dict[str, Any]]:
    out = frame.to_dict("records")
    for r in out:
        if "period" in r and hasattr(r["period"], "date"):
            r["period"] = r["period"].date()
    return out


def drifted_after(wh: Warehouse, after: date | None, version: int) -> list[dict[str, Any]]:
    """Drifted feature cells measured against ``version``'s window, in periods after ``after``."""
    return _records(
        wh.read(
            "SELECT period, column_name, segment_column, segment_value, method, statistic, "
            "threshold, p_value, drifted, sentence FROM drift_results "
            "WHERE drifted AND column_name <> '__score__' AND reference_version = ? "
            "AND (? IS NULL OR period > ?) ORDER BY period, column_name",
            [version, after, after],
        )
    )


def roc_auc_after(wh: Warehouse, after: date | None, version: int) -> list[dict[str, Any]]:
    """Estimated and realised ROC AUC of ``version``'s predictions of whole periods after
    ``after`` (segments have their own baselines; the policy compares whole periods)."""
    return _records(
        wh.read(
            "SELECT period, kind, segment_column, segment_value, value FROM performance "
            "WHERE metric = 'roc_auc' AND model_version = ? AND value IS NOT NULL "
            "AND segment_column = '(all)' "
            "AND (? IS NULL OR period > ?) ORDER BY period",
            [version, after, after],
        )
    )


def top_features(wh: Warehouse, version: int) -> list[str]:
    """``version``'s features by global importance on its holdout, most important first."""
    rows = wh.read(
        "SELECT feature FROM explain_importance WHERE model_version = ? AND scope = 'holdout' "
        "ORDER BY rank",
        [version],
    )
    return rows["feature"].tolist()


def last_automatic_retrain(wh: Warehouse) -> date | None:
    """The newest data period when the policy last retrained by itself."""
    row = wh.read(
        "SELECT max(period) AS p FROM retrain_decisions WHERE action = 'retrain' "
        f"AND trigger IN ({', '.join('?' for _ in AUTOMATIC)})",
        list(AUTOMATIC),
    )
    value = row["p"].iloc[0]
    return None if value is None or value != value else getattr(value, "date", lambda: value)()


def score_reference(wh: Warehouse, version: int) -> str | None:
    """The stored holdout score histogram (JSON) of ``version``."""
    row = wh.read("SELECT score_reference FROM models WHERE version = ?", [version])
    return None if row.empty else row["score_reference"].iloc[0]


def cached_reference(wh: Warehouse, key: str) -> str | None:
    """A window reference counted before under ``key`` (JSON), or None."""
    row = wh.read("SELECT payload FROM monitor_references WHERE cache_key = ?", [key])
    return None if row.empty else row["payload"].iloc[0]
