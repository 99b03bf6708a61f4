"""The training frame's contract, the gradient-boosting pipeline and a single honest fit.

A training frame has one row per entity and period: feature columns, ``PERIOD`` and ``LABEL``.
:func:`split_by_time` holds out the latest periods; :func:`build_pipeline` is the
gradient-boosting design that ``pipeline.modeling`` searches, calibrates and compares with a
linear baseline (``pipeline.modeling.fit_candidates``). :func:`fit_and_evaluate` is one fit
with fixed parameters, kept for callers that need no search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

PERIOD = "_period"
LABEL = "_label"

DEFAULT_PARAMS: dict[str, float | int] = {
    "learning_rate": 0.08,
    "max_iter": 200,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}


@dataclass(frozen=True)
class TrainSpec:
    """What to train on: feature roles, seed and hyperparameters.

    ``seed`` and ``params`` configure :func:`build_pipeline` and :func:`fit_and_evaluate`;
    ``pipeline.modeling.fit_candidates`` chooses its own parameters and takes its seed from
    the training settings.
    """

    categorical: list[str]
    numeric: list[str]
    seed: int = 42
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))

    @property
    def features(self) -> list[str]:
        """Input columns in the order the model sees them."""
        return [*self.categorical, *self.numeric]


class NotEnoughData(ValueError):
    """Training cannot start; the message says what is missing."""


def build_pipeline(spec: TrainSpec) -> Pipeline:
    """``Pipeline(ColumnTransformer, HistGradientBoostingClassifier)`` on ordinal codes.

    Categories reach the trees as ordinal codes split like numbers, not as native categorical
    splits: shap's TreeExplainer reads numeric splits exactly (SHAP values add up to the raw
    score), but misreads HistGradientBoosting's categorical bitsets (errors of several log-odds
    were measured with shap 0.51). On the demo the holdout ROC AUC is the same to 3 decimals.
    """
    encode = ColumnTransformer(
        [
            (
                "categorical",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                    # Rare categories beyond 255 are grouped as "infrequent", which keeps
                    # the codes dense.
                    max_categories=255,
                    dtype=np.float64,
                ),
                spec.categorical,
            ),
            ("numeric", "passthrough", spec.numeric),
        ],
        verbose_feature_names_out=False,
    )
    model = HistGradientBoostingClassifier(
        categorical_features=None,
        early_stopping=False,
        random_state=spec.seed,
        **spec.params,
    )
    return Pipeline([("encode", encode), ("model", model)])


def prepare_features(frame: pd.DataFrame, spec: TrainSpec) -> pd.DataFrame:
    """The model's input frame: categoricals as object text, numerics as float, fixed order."""
    out = pd.DataFrame(index=frame.index)
    for col in spec.categorical:
        values = frame[col] if col in frame else pd.Series(None, index=frame.index)
        out[col] = values.astype(object).where(values.notna(), np.nan)
    for col in spec.numeric:
        values = frame[col] if col in frame else pd.Series(np.nan, index=frame.index)
        out[col] = pd.to_numeric(values, errors="coerce").astype(np.float64)
    return out


def split_by_time(frame: pd.DataFrame, holdout_periods: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on earlier periods, hold out the latest ``holdout_periods`` (no look-ahead)."""
    periods = sorted(frame[PERIOD].unique())
    if len(periods) < holdout_periods + 1:
        raise NotEnoughData(
            f"training needs labelled data from at least {holdout_periods + 1} periods; "
            f"there are {len(periods)}"
        )
    cut = periods[-holdout_periods]
    return frame[frame[PERIOD] < cut], frame[frame[PERIOD] >= cut]


def holdout_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier score and log loss of churn probabilities."""
    if len(np.unique(y_true)) < 2:
        raise NotEnoughData("the holdout has only one class; ROC AUC is undefined")
    return {
        "roc_auc": float(roc_auc_score(y_true, proba)),
        "pr_auc": float(average_precision_score(y_true, proba)),
        "brier": float(brier_score_loss(y_true, proba)),
        "log_loss": float(log_loss(y_true, np.clip(proba, 1e-7, 1 - 1e-7))),
    }


@dataclass
class TrainResult:
    """A fitted pipeline and what is known about it."""

    pipeline: Pipeline
    metrics: dict[str, float]
    train_rows: int
    holdout_rows: int
    train_from: object
    train_to: object
    holdout_from: object
    holdout_to: object
    holdout: pd.DataFrame


def fit_and_evaluate(frame: pd.DataFrame, spec: TrainSpec, holdout_periods: int) -> TrainResult:
    """Fit on the earlier periods of ``frame`` and measure on the held-out latest ones."""
    train, holdout = split_by_time(frame, holdout_periods)
    if train[LABEL].nunique() < 2:
        raise NotEnoughData("the training periods have only one class of the target")
    pipe = build_pipeline(spec)
    pipe.fit(prepare_features(train, spec), train[LABEL].to_numpy())
    proba = pipe.predict_proba(prepare_features(holdout, spec))[:, 1]
    return TrainResult(
        pipeline=pipe,
        metrics=holdout_metrics(holdout[LABEL].to_numpy(), proba),
        train_rows=len(train),
        holdout_rows=len(holdout),
        train_from=train[PERIOD].min(),
        train_to=train[PERIOD].max(),
        holdout_from=holdout[PERIOD].min(),
        holdout_to=holdout[PERIOD].max(),
        holdout=holdout,
    )
