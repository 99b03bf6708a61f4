"""Decision thresholds chosen on validation predictions: business profit and F1.

Every distinct predicted probability is a candidate cut (flag rows with ``proba >= t``), plus
"flag nobody". The returned threshold is the midpoint between the chosen cut and the next lower
distinct probability, so it separates the same rows while leaving room on both sides for new
data. Ties go to the higher threshold: the same value for fewer contacts.
"""

from __future__ import annotations

import numpy as np


def _cuts(y: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Thresholds (descending) and TP, FP at each, starting with "flag nobody"."""
    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if len(y) == 0:
        raise ValueError("choosing a threshold needs at least one prediction")
    order = np.argsort(-proba, kind="stable")
    p, t = proba[order], y[order]
    tp = np.cumsum(t)
    fp = np.cumsum(1 - t)
    # The last row of each run of equal probabilities: a cut takes the whole run or none of it.
    last = np.flatnonzero(np.r_[p[1:] != p[:-1], True])
    values = p[last]
    lower = np.r_[values[1:], -np.inf]
    middle = (values + np.r_[values[1:], 0.0]) / 2
    # Adjacent floats have no midpoint strictly above the lower one; cut at the value itself.
    thresholds = np.where(middle > lower, middle, values)
    tp, fp = tp[last], fp[last]
    if values[0] < 1.0:  # "flag nobody" needs a threshold above every probability
        thresholds = np.r_[(values[0] + 1.0) / 2, thresholds]
        tp, fp = np.r_[0, tp], np.r_[0, fp]
    return thresholds, tp, fp, int(t.sum())


def profit_threshold(
    y: np.ndarray, proba: np.ndarray, value_per_churner: float, contact_cost: float
) -> float:
    """The threshold maximising ``value_per_churner * TP - contact_cost * (TP + FP)``."""
    thresholds, tp, fp, _ = _cuts(y, proba)
    profit = value_per_churner * tp - contact_cost * (tp + fp)
    return float(thresholds[int(np.argmax(profit))])


def f1_threshold(y: np.ndarray, proba: np.ndarray) -> float:
    """The threshold maximising F1 = 2 TP / (2 TP + FP + FN)."""
    thresholds, tp, fp, positives = _cuts(y, proba)
    denominator = 2 * tp + fp + (positives - tp)
    f1 = np.divide(2 * tp, denominator, out=np.zeros(len(tp)), where=denominator > 0)
    return float(thresholds[int(np.argmax(f1))])
