"""Probability calibration of a fitted candidate, chosen by Brier score on held-out rows.

A calibrated model stays one top-level ``Pipeline``: the fitted "encode" step, then
``CalibratedClassifierCV(FrozenEstimator(fitted estimator))`` as "model", fitted on the
encoded calibration rows. :func:`fitted_estimator` reaches the fitted estimator inside either
form (SHAP's TreeExplainer needs the tree model itself).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

OPTIONS: tuple[str, ...] = ("none", "sigmoid", "isotonic")

# CalibratedClassifierCV predicts its calibration rows through a 5-fold split (a frozen
# estimator is not refitted, so the folds only partition the rows); each fold needs both
# classes.
MIN_ROWS_PER_CLASS = 5

# Calibrating has a price: the model it wraps never sees the calibration period, while an
# uncalibrated model is refit on it (on the demo, one month more data is worth ~0.002 ROC AUC).
# So "auto" calibrates only when that clearly pays: Brier at least 1% below uncalibrated.
MIN_BRIER_GAIN = 0.01


def calibrate(pipe: Pipeline, x: pd.DataFrame, y: np.ndarray, method: str) -> Pipeline:
    """``pipe`` with its fitted model calibrated by ``method`` on ``(x, y)``; "none" returns it."""
    if method == "none":
        return pipe
    encode = pipe.named_steps["encode"]
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipe.named_steps["model"]), method=method)
    calibrated.fit(encode.transform(x), y)
    return Pipeline([("encode", encode), ("model", calibrated)])


def fitted_estimator(pipe: Pipeline) -> BaseEstimator:
    """The fitted estimator of a model pipeline, unwrapped from its calibrator if any."""
    model = pipe.named_steps["model"]
    if isinstance(model, CalibratedClassifierCV):
        model = model.calibrated_classifiers_[0].estimator
    if isinstance(model, FrozenEstimator):
        model = model.estimator
    return model


def calibration_method(pipe: Pipeline) -> str:
    """ "sigmoid" or "isotonic" for a calibrated pipeline, "none" otherwise."""
    model = pipe.named_steps["model"]
    return model.method if isinstance(model, CalibratedClassifierCV) else "none"


def can_calibrate(y: np.ndarray) -> str | None:
    """None if ``y`` can be split in two calibratable halves, else the reason it cannot."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=2)
    need = 2 * MIN_ROWS_PER_CLASS
    if counts.min() < need:
        return (
            f"the calibration period has {int(counts[1])} positive and {int(counts[0])} "
            f"negative rows; calibration needs at least {need} of each"
        )
    return None


def compare(
    pipe: Pipeline, x: pd.DataFrame, y: np.ndarray, seed: int, options: tuple[str, ...] = OPTIONS
) -> dict[str, float]:
    """Brier score per calibration option: fitted on one stratified half, measured on the other.

    The halves are drawn with ``seed``; the caller checks :func:`can_calibrate` first.
    """
    fit_idx, check_idx = train_test_split(
        np.arange(len(y)), test_size=0.5, stratify=y, random_state=seed
    )
    x_fit, x_check = x.iloc[fit_idx], x.iloc[check_idx]
    scores: dict[str, Any] = {}
    for method in options:
        model = calibrate(pipe, x_fit, y[fit_idx], method)
        proba = model.predict_proba(x_check)[:, 1]
        scores[method] = float(brier_score_loss(y[check_idx], proba))
    return scores


def choose(scores: dict[str, float], setting: str) -> str:
    """The configured method, or with "auto" the lowest Brier (ties go to the simpler one).

    With "auto", a calibrator must cut the uncalibrated Brier score by at least
    ``MIN_BRIER_GAIN`` (relative) to be chosen.
    """
    if setting != "auto":
        return setting
    best = min(scores, key=lambda method: (scores[method], OPTIONS.index(method)))
    if best != "none" and scores[best] > scores["none"] * (1 - MIN_BRIER_GAIN):
        return "none"
    return best
