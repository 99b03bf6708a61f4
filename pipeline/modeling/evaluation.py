"""Model quality as plain, JSON-able numbers: headline metrics, per segment, and curves.

Every function is pure. Values are Python ``float``/``int`` (never NumPy scalars) and ``None``
where a metric is undefined: ROC AUC with one class, precision when nothing is flagged, recall
and PR AUC without positives. Rows whose probability is not finite are counted in
``nan_predictions`` and left out of every other metric.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

MAX_CURVE_POINTS = 201
GRID = np.round(np.linspace(0.0, 1.0, 201), 3)
GAIN_POPULATION = np.round(np.linspace(0.05, 1.0, 20), 2)
CALIBRATION_BINS = 10
_DIGITS = 6  # curve coordinates: plenty for a chart, a third of the JSON of full floats


def _arrays(y: Any, proba: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Labels and probabilities of the rows with a finite probability, and the others' count."""
    y = np.asarray(y, dtype=np.int64).ravel()
    proba = np.asarray(proba, dtype=np.float64).ravel()
    if y.shape != proba.shape:
        raise ValueError(f"{len(y)} labels but {len(proba)} probabilities")
    finite = np.isfinite(proba)
    return y[finite], proba[finite], int((~finite).sum())


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def _core(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, Any]:
    """Metrics shared by :func:`evaluate` and :func:`segment_metrics` (finite rows only)."""
    n, positives = len(y), int(y.sum())
    two_classes = 0 < positives < n
    flagged = proba >= threshold
    tp = int((flagged & (y == 1)).sum())
    return {
        "roc_auc": float(roc_auc_score(y, proba)) if two_classes else None,
        "pr_auc": float(average_precision_score(y, proba)) if positives else None,
        "brier": float(np.mean((proba - y) ** 2)) if n else None,
        "precision": _ratio(tp, int(flagged.sum())),
        "recall": _ratio(tp, positives),
        "flag_rate": _ratio(int(flagged.sum()), n),
        "_tp": tp,
        "_flagged": int(flagged.sum()),
    }


def evaluate(
    y: Any, proba: Any, threshold: float, value_per_churner: float, contact_cost: float
) -> dict[str, Any]:
    """Headline metrics of churn probabilities ``proba`` against labels ``y`` at ``threshold``.

    Returns ``rows, positives, roc_auc, pr_auc, brier, log_loss, precision, recall, f1,
    flag_rate, lift_top_decile, expected_profit, threshold, nan_predictions``; ``rows`` and
    ``positives`` count every row, the rest only rows with a finite probability.
    ``expected_profit`` is ``value_per_churner * TP - contact_cost * (TP + FP)``.
    """
    labels = np.asarray(y, dtype=np.int64).ravel()
    y, proba, nan_count = _arrays(y, proba)
    core = _core(y, proba, threshold)
    tp, flagged = core.pop("_tp"), core.pop("_flagged")
    precision, recall = core["precision"], core["recall"]
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    clipped = np.clip(proba, 1e-15, 1 - 1e-15)
    log_loss = -np.mean(y * np.log(clipped) + (1 - y) * np.log1p(-clipped)) if len(y) else None
    return {
        "rows": len(labels),
        "positives": int(labels.sum()),
        **core,
        "log_loss": None if log_loss is None else float(log_loss),
        "f1": None if f1 is None else float(f1),
        "lift_top_decile": _lift_top_decile(y, proba),
        "expected_profit": float(value_per_churner * tp - contact_cost * flagged),
        "threshold": float(threshold),
        "nan_predictions": nan_count,
    }


def _top(proba: np.ndarray, share: float) -> np.ndarray:
    """Positions of the ``ceil(share * n)`` highest probabilities (stable on ties)."""
    order = np.argsort(-proba, kind="stable")
    return order[: math.ceil(share * len(proba) - 1e-9)]


def _lift_top_decile(y: np.ndarray, proba: np.ndarray) -> float | None:
    """Positive rate in the top 10% of scores over the overall positive rate."""
    if len(y) == 0 or y.sum() == 0:
        return None
    top = _top(proba, 0.1)
    return float(y[top].mean() / y.mean())


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def segment_metrics(
    segments: pd.DataFrame, y: Any, proba: Any, threshold: float
) -> list[dict[str, Any]]:
    """One dict per (column, value) of ``segments`` (rows aligned with ``y`` and ``proba``).

    Keys: ``column, value, rows, positives, roc_auc, pr_auc, brier, precision, recall,
    flag_rate``; a missing segment value is reported as ``value=None``. Rows with a
    non-finite probability count in ``rows`` only.
    """
    labels = np.asarray(y, dtype=np.int64).ravel()
    scores = np.asarray(proba, dtype=np.float64).ravel()
    if not len(segments) == len(labels) == len(scores):
        raise ValueError(
            f"segments have {len(segments)} rows, labels {len(labels)}, probabilities {len(scores)}"
        )
    out = []
    for column in segments.columns:
        values = segments[column].reset_index(drop=True)
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
        groups = [(code, _plain(v)) for code, v in enumerate(uniques)]
        if (codes == -1).any():
            groups.append((-1, None))
        for code, value in groups:
            mask = codes == code
            group_y, group_p, _ = _arrays(labels[mask], scores[mask])
            core = _core(group_y, group_p, threshold)
            del core["_tp"], core["_flagged"]
            out.append(
                {
                    "column": str(column),
                    "value": value,
                    "rows": int(mask.sum()),
                    "positives": int(labels[mask].sum()),
                    **core,
                }
            )
    return out


def _thin(*columns: np.ndarray) -> list[list[float]]:
    """At most MAX_CURVE_POINTS evenly spaced points, always keeping the first and last."""
    n = len(columns[0])
    if n > MAX_CURVE_POINTS:
        keep = np.unique(np.round(np.linspace(0, n - 1, MAX_CURVE_POINTS)).astype(np.int64))
        columns = tuple(c[keep] for c in columns)
    return [np.round(c.astype(np.float64), _DIGITS).tolist() for c in columns]


def curves(y: Any, proba: Any) -> dict[str, dict[str, list]]:
    """Small JSON-able curves of ``proba`` against ``y``.

    ``roc`` (fpr, tpr from (0, 0) to (1, 1)) and ``pr`` (recall ascending, precision), each at
    most 201 points; ``calibration``: mean predicted, observed rate and count in 10 equal-count
    bins; ``gain``: share of positives captured in the top 5%, 10%, ..., 100%; ``grid``:
    confusion counts at thresholds 0, 0.005, ..., 1 (flagged when ``proba >= threshold``).
    A curve that is undefined (one class, no rows) has empty lists.
    """
    y, proba, _ = _arrays(y, proba)
    n, positives = len(y), int(y.sum())
    out: dict[str, dict[str, list]] = {
        "roc": {"fpr": [], "tpr": []},
        "pr": {"recall": [], "precision": []},
        "calibration": {"mean_predicted": [], "observed": [], "count": []},
        "gain": {"population": [], "captured": []},
        "grid": {"threshold": [], "tp": [], "fp": [], "fn": [], "tn": []},
    }
    if n == 0:
        return out
    if 0 < positives < n:
        fpr, tpr, _ = roc_curve(y, proba)
        out["roc"]["fpr"], out["roc"]["tpr"] = _thin(fpr, tpr)
    if positives:
        precision, recall, _ = precision_recall_curve(y, proba, drop_intermediate=True)
        out["pr"]["recall"], out["pr"]["precision"] = _thin(recall[::-1], precision[::-1])
        order = np.argsort(-proba, kind="stable")
        captured = np.cumsum(y[order])
        sizes = np.ceil(GAIN_POPULATION * n - 1e-9).astype(np.int64)
        out["gain"] = {
            "population": GAIN_POPULATION.tolist(),
            "captured": np.round(captured[sizes - 1] / positives, _DIGITS).tolist(),
        }
    order = np.argsort(proba, kind="stable")
    bins = [b for b in np.array_split(order, CALIBRATION_BINS) if len(b)]
    out["calibration"] = {
        "mean_predicted": [round(float(proba[b].mean()), _DIGITS) for b in bins],
        "observed": [round(float(y[b].mean()), _DIGITS) for b in bins],
        "count": [len(b) for b in bins],
    }
    # Counts at each grid threshold from the sorted scores: rows with proba >= t are flagged.
    sorted_p, sorted_y = proba[order], y[order]
    positives_below = np.r_[0, np.cumsum(sorted_y)]
    below = np.searchsorted(sorted_p, GRID, side="left")
    fn = positives_below[below]
    tn = below - fn
    out["grid"] = {
        "threshold": GRID.tolist(),
        "tp": (positives - fn).tolist(),
        "fp": (n - below - (positives - fn)).tolist(),
        "fn": fn.tolist(),
        "tn": tn.tolist(),
    }
    return out
