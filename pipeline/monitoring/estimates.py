"""Per period and segment: estimated performance rows, and the score reference of a model.

Both run inside compute children, on the probabilities the child has just computed, so no
extra pass over the data is needed: estimates come from the scoring child (confidence-based,
see :mod:`pipeline.monitoring.estimated`), the score reference from the training child (the
new model's holdout scores, the baseline its prediction drift is measured against).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.monitoring import ALL
from pipeline.monitoring.binning import DEFAULT_BINS, bin_counts, numeric_edges, quantile_levels
from pipeline.monitoring.estimated import METRICS, estimate

#: Metric names stored per estimate; ``positive_rate`` is the expected churn rate.
ESTIMATED = ("positive_rate", *METRICS)


def score_reference(proba: np.ndarray, bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """Bins, counts and moments of a model's holdout scores, as stored with the model."""
    p = np.asarray(proba, dtype=float)
    p = p[np.isfinite(p)]
    if p.size == 0:
        raise ValueError("score reference: the holdout has no finite probability")
    edges = numeric_edges(np.quantile(p, quantile_levels(bins)).tolist())
    counts, sums, missing = bin_counts(p, edges)
    return {
        "cuts": edges[1:-1],
        "counts": counts,
        "sums": sums,
        "missing": missing,
        "minimum": float(p.min()),
        "maximum": float(p.max()),
        "std": float(p.std(ddof=1)) if p.size > 1 else 0.0,
        "rows": int(p.size),
    }


def _rows(
    period: Any,
    column: str,
    value: str,
    proba: np.ndarray,
    threshold: float,
    bootstrap: int,
    seed: int,
) -> list[dict[str, Any]]:
    est = estimate(proba, threshold, n_bootstrap=bootstrap, seed=seed)
    out = []
    for metric in ESTIMATED:
        name = "expected_positive_rate" if metric == "positive_rate" else metric
        band = est.band(name)
        out.append(
            {
                "period": pd.Timestamp(period).date(),
                "segment_column": column,
                "segment_value": value,
                "metric": metric,
                "value": getattr(est, name),
                "low": band.low,
                "high": band.high,
                "rows": est.rows,
            }
        )
    return out


def estimates_by_segment(
    frame: pd.DataFrame,
    proba: np.ndarray,
    period_column: str,
    segments: list[str],
    threshold: float,
    bootstrap: int,
    seed: int,
    min_rows: int = 1,
) -> list[dict[str, Any]]:
    """Estimated metrics per period, for the whole period and each segment value with at least
    ``min_rows`` rows. One dict per (period, segment, metric), ready for the performance table.
    """
    out: list[dict[str, Any]] = []
    periods = frame[period_column].to_numpy()
    for period in pd.unique(periods):
        in_period = periods == period
        p = proba[in_period]
        out += _rows(period, ALL, ALL, p, threshold, bootstrap, seed)
        for column in segments:
            if column not in frame.columns:
                continue
            values = frame.loc[in_period, column].astype("string").fillna("(missing)").to_numpy()
            for value in sorted(set(values)):
                mask = values == value
                if mask.sum() >= min_rows:
                    out += _rows(period, column, str(value), p[mask], threshold, bootstrap, seed)
    return out
