"""Estimated performance before labels arrive, from the model's own calibrated confidence.

In the style of NannyML's confidence-based performance estimation (CBPE): if the churn
probabilities ``p_i`` are calibrated, row ``i`` is a churner with probability ``p_i``, so the
confusion matrix at a threshold ``t`` (a row is flagged when ``p_i >= t``, as in
:mod:`pipeline.modeling.evaluation`) has the expected cells

* ``E[TP] = sum p_i`` and ``E[FP] = sum (1 - p_i)`` over flagged rows,
* ``E[FN] = sum p_i`` and ``E[TN] = sum (1 - p_i)`` over unflagged rows.

Precision, recall and F1 are the ratios of these expectations (``E[TP] / (E[TP] + E[FP])``
and so on), not the expectations of the ratios; the two differ by O(1/n), which is far
inside the band for any batch worth monitoring. ROC AUC is the CBPE estimator: sort by
``p``, take expected TPR/FPR curves from the cumulative sums of ``p`` and ``1 - p`` (one
point per distinct score, so ties get half credit) and integrate with the trapezoid rule.

The band is a parametric bootstrap: labels are simulated as ``Bernoulli(p_i)`` with a seeded
generator and each metric is computed on every draw; the band is the central ``coverage``
interval of those realised values. It is the spread one would see from label noise alone.

Everything here assumes calibration. When the model under-estimates risk (true churn rate
above ``p``), the expected positive rate and precision are estimated too low, and vice
versa; calibration drift is invisible to this estimate and must be watched separately
(data drift, and the realised metrics from :func:`realised` once labels land).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

METRICS = ("roc_auc", "precision", "recall", "f1")
"""Metrics reported both by :func:`estimate` and :func:`realised`, under the same names."""

_CHUNK_ELEMENTS = 2_000_000  # simulated labels held at once: 16 MB of float64


@dataclass(frozen=True)
class Band:
    """Central interval of a metric over simulated label draws; ``None`` where undefined."""

    low: float | None
    high: float | None


@dataclass(frozen=True)
class Estimate:
    """Estimated metrics at ``threshold`` with their bands (see the module docstring).

    ``rows`` counts every row; metrics use only rows with a finite probability, the others
    are counted in ``nan_predictions``. A metric is ``None`` where it is undefined: precision
    when nobody is flagged, recall when no churn is expected, F1 when either is undefined,
    ROC AUC unless both churners and stayers are expected.
    """

    rows: int
    nan_predictions: int
    threshold: float
    coverage: float
    n_bootstrap: int
    seed: int
    expected_positive_rate: float
    roc_auc: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    expected_positive_rate_band: Band
    roc_auc_band: Band
    precision_band: Band
    recall_band: Band
    f1_band: Band

    def band(self, metric: str) -> Band:
        """Return the band of ``metric``, one of ``expected_positive_rate`` and :data:`METRICS`."""
        return getattr(self, f"{metric}_band")

    def as_json(self) -> dict[str, Any]:
        """Plain dict: the scalar fields plus ``bands: {metric: {"low", "high"}}``."""
        names = ("expected_positive_rate", *METRICS)
        plain = {k: v for k, v in asdict(self).items() if not k.endswith("_band")}
        return {**plain, "bands": {name: asdict(self.band(name)) for name in names}}


def _probabilities(proba: Any, who: str) -> tuple[np.ndarray, int, int]:
    """Finite probabilities, the total row count and the count of non-finite ones."""
    values = np.asarray(proba, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError(f"{who}: proba is empty; there are no rows to measure performance on")
    finite = np.isfinite(values)
    kept = values[finite]
    if kept.size == 0:
        raise ValueError(f"{who}: none of the {values.size} probabilities is finite (all NaN/inf)")
    outside = (kept < 0) | (kept > 1)
    if outside.any():
        raise ValueError(
            f"{who}: {int(outside.sum())} of {kept.size} probabilities are outside [0, 1] "
            f"(e.g. {kept[outside][0]!r}); pass predict_proba(...)[:, 1], not raw scores"
        )
    return kept, values.size, int((~finite).sum())


def _check_threshold(threshold: float, who: str) -> float:
    if not math.isfinite(threshold):
        raise ValueError(f"{who}: threshold must be a finite number, got {threshold!r}")
    return float(threshold)


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator > 0 else None


def _expected_roc_auc(p: np.ndarray) -> float | None:
    """CBPE ROC AUC: trapezoid area under the expected ROC curve (``None`` if one class)."""
    expected_pos, expected_neg = p.sum(), (1 - p).sum()
    if expected_pos <= 0 or expected_neg <= 0:
        return None
    desc = np.sort(p)[::-1]
    # One curve point per distinct score: a tie block moves TPR and FPR together (half credit).
    ends = np.r_[np.flatnonzero(np.diff(desc)), desc.size - 1]
    tpr = np.r_[0.0, np.cumsum(desc)[ends] / expected_pos]
    fpr = np.r_[0.0, np.cumsum(1 - desc)[ends] / expected_neg]
    return float(np.clip(np.trapezoid(tpr, fpr), 0.0, 1.0))


def _simulated(
    p: np.ndarray, flagged: np.ndarray, n_bootstrap: int, seed: int
) -> dict[str, np.ndarray]:
    """Each metric over ``n_bootstrap`` label draws ``y ~ Bernoulli(p)``; NaN where undefined.

    One matrix product per chunk of draws gives, per draw, the positives, the true positives
    and the rank sum of the positives (Mann-Whitney form of ROC AUC, average ranks for ties).
    """
    n, k = p.size, int(flagged.sum())
    weights = np.column_stack([np.ones(n), flagged.astype(np.float64), rankdata(p)])
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_ELEMENTS // n)
    stats = np.empty((n_bootstrap, 3))
    for start in range(0, n_bootstrap, chunk):
        stop = min(start + chunk, n_bootstrap)
        labels = (rng.random((stop - start, n)) < p).astype(np.float64)
        stats[start:stop] = labels @ weights
    positives, tp, rank_sum = stats.T
    negatives = n - positives
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = tp / k if k else np.full(n_bootstrap, np.nan)
        recall = np.where(positives > 0, tp / positives, np.nan)
        f1 = np.where((positives > 0) & (k > 0), 2 * tp / (k + positives), np.nan)
        auc = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
        auc = np.where((positives > 0) & (negatives > 0), auc, np.nan)
    return {
        "expected_positive_rate": positives / n,
        "roc_auc": auc,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def _band(values: np.ndarray | None, coverage: float, point: float | None) -> Band:
    if values is None or point is None:
        return Band(None, None)
    defined = values[np.isfinite(values)]
    if defined.size == 0:
        return Band(None, None)
    tail = (1 - coverage) / 2 * 100
    low, high = np.percentile(defined, [tail, 100 - tail])
    return Band(float(low), float(high))


def estimate(
    proba: np.ndarray,
    threshold: float,
    *,
    n_bootstrap: int = 200,
    seed: int = 0,
    coverage: float = 0.9,
) -> Estimate:
    """Estimate the metrics of calibrated churn probabilities ``proba`` at ``threshold``.

    Returns an :class:`Estimate` with ratio-of-expectation precision, recall and F1, the CBPE
    ROC AUC and, per metric, the central ``coverage`` band of the metric realised on
    ``n_bootstrap`` seeded draws of labels ``y ~ Bernoulli(proba)`` (``n_bootstrap=0`` skips
    the bands). Raises ``ValueError`` for empty input, probabilities outside [0, 1], a
    non-finite threshold or an invalid ``n_bootstrap``/``coverage``.
    """
    who = "estimated performance"
    p, rows, nan_count = _probabilities(proba, who)
    threshold = _check_threshold(threshold, who)
    if n_bootstrap < 0:
        raise ValueError(f"{who}: n_bootstrap must be 0 or more, got {n_bootstrap}")
    if not 0 < coverage < 1:
        raise ValueError(f"{who}: coverage must be strictly between 0 and 1, got {coverage}")

    flagged = p >= threshold
    flagged_count = int(flagged.sum())
    expected_tp = float(p[flagged].sum())
    expected_pos = float(p.sum())
    precision = _ratio(expected_tp, flagged_count)
    recall = _ratio(expected_tp, expected_pos)
    # 2TP / (2TP + FP + FN) with TP + FP = flagged and TP + FN = expected positives.
    both = precision is not None and recall is not None
    f1 = _ratio(2 * expected_tp, flagged_count + expected_pos) if both else None
    points = {
        "expected_positive_rate": expected_pos / p.size,
        "roc_auc": _expected_roc_auc(p),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }
    draws = _simulated(p, flagged, n_bootstrap, seed) if n_bootstrap else {}
    bands = {f"{name}_band": _band(draws.get(name), coverage, v) for name, v in points.items()}
    return Estimate(
        rows=rows,
        nan_predictions=nan_count,
        threshold=threshold,
        coverage=float(coverage),
        n_bootstrap=int(n_bootstrap),
        seed=int(seed),
        **points,
        **bands,
    )


def realised(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, Any]:
    """Realised metrics once labels ``y`` (0/1) land, under the names of :func:`estimate`.

    Returns ``rows, nan_predictions, threshold, positive_rate, roc_auc, precision, recall,
    f1``; ``positive_rate`` is the realised counterpart of ``expected_positive_rate``.
    Undefined metrics are ``None`` under the same rules as :class:`Estimate`. Rows with a
    non-finite probability are counted in ``nan_predictions`` and left out.
    """
    who = "realised performance"
    labels = np.asarray(y).ravel()
    scores = np.asarray(proba, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise ValueError(f"{who}: {labels.size} labels but {scores.size} probabilities")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{who}: labels must be 0 or 1; got values {np.unique(labels)[:5]}")
    p, rows, nan_count = _probabilities(scores, who)
    threshold = _check_threshold(threshold, who)
    labels = labels[np.isfinite(scores)].astype(np.int64)

    flagged = p >= threshold
    positives = int(labels.sum())
    tp = int(labels[flagged].sum())
    precision = _ratio(tp, int(flagged.sum()))
    recall = _ratio(tp, positives)
    both = precision is not None and recall is not None
    return {
        "rows": rows,
        "nan_predictions": nan_count,
        "threshold": threshold,
        "positive_rate": positives / labels.size,
        "roc_auc": float(roc_auc_score(labels, p)) if 0 < positives < labels.size else None,
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * tp, int(flagged.sum()) + positives) if both else None,
    }
