"""SHAP values of a fitted model pipeline, per original column, on the raw and probability scales.

The *raw* scale is the inner estimator's ``decision_function`` (log-odds). Gradient boosting is
explained by shap's TreeExplainer (tree-path-dependent, exact on ordinal codes, NaN codes follow
each split's missing branch); logistic regression by shap's LinearExplainer (interventional, on an
encoded background). Encoded columns (one-hot categories, missing-value indicators) are summed
back into the column they came from, so every explanation is per column of ``TrainSpec.features``.
A calibrated pipeline is explained on its inner estimator's raw score; probabilities go through
the calibrator, as the pipeline's own ``predict_proba`` does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shap
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from pipeline.modeling.calibration import fitted_estimator
from pipeline.train import TrainSpec

logger = logging.getLogger(__name__)

# base_value + sum(values) must reproduce the raw score to this (log-odds); TreeSHAP and the
# linear formula are exact, so anything larger means the model was misread.
ADDITIVITY_TOLERANCE = 1e-6
# Half-width (log-odds) of the central difference that measures the probability slope at the
# base value, used for rows whose raw score equals the base value (see probability_points).
_SLOPE_STEP = 1e-3


@dataclass
class Explanation:
    """Per-column SHAP values of some rows.

    ``values[i, j]`` is column ``features[j]``'s contribution to row ``i``'s raw score (log-odds),
    with one-hot and missing-indicator columns summed into their source column;
    ``base_value + values[i].sum() == raw[i]`` within 1e-6. ``proba`` is the pipeline's
    probability (calibrated when the pipeline is) and ``base_proba`` the probability of a row
    scoring exactly ``base_value``. ``base_slope`` is d(proba)/d(raw) at the base value (NaN when
    unknown: :func:`probability_points` then assumes the logistic link).
    """

    features: list[str]
    base_value: float
    values: np.ndarray
    raw: np.ndarray
    proba: np.ndarray
    base_proba: float
    base_slope: float = float("nan")


class Explainer:
    """Explains one fitted model pipeline; build it once per model version and reuse it.

    ``background`` (``prepare_features`` output, e.g. up to 1,000 sampled rows) defines the
    linear model's expected value; the tree explainer needs none (it uses the trees' cover).
    Raises ValueError for an estimator or encoder it cannot explain exactly.
    """

    def __init__(self, pipe: Pipeline, spec: TrainSpec, background: pd.DataFrame) -> None:
        self.features: list[str] = list(spec.features)
        self._encode: ColumnTransformer = pipe.named_steps["encode"]
        self._model = pipe.named_steps["model"]
        self._estimator: BaseEstimator = fitted_estimator(pipe)
        self._inputs = list(getattr(self._encode, "feature_names_in_", self.features))
        sources = encoded_sources(self._encode, self.features)
        self._fold = np.zeros((len(sources), len(self.features)))
        self._fold[np.arange(len(sources)), sources] = 1.0
        self._tree = isinstance(self._estimator, HistGradientBoostingClassifier)
        if self._tree:
            self._shap = shap.TreeExplainer(self._estimator)
        elif hasattr(self._estimator, "coef_") and hasattr(self._estimator, "decision_function"):
            if len(background) == 0:
                raise ValueError("a linear model's explanation needs at least one background row")
            encoded = np.asarray(self._encode.transform(background[self._inputs]), dtype=float)
            # Independent keeps only 100 rows unless told otherwise; the whole background counts.
            masker = shap.maskers.Independent(encoded, max_samples=len(encoded))
            self._shap = shap.LinearExplainer(self._estimator, masker)
        else:
            raise ValueError(
                f"cannot explain a {type(self._estimator).__name__}: explanations support "
                "HistGradientBoostingClassifier and linear classifiers"
            )
        self.base_value = float(np.ravel(self._shap.expected_value)[-1])
        around = self.base_value + np.array([-_SLOPE_STEP, 0.0, _SLOPE_STEP])
        low, self.base_proba, high = (float(p) for p in link(self._model, around))
        self.base_slope = (high - low) / (2 * _SLOPE_STEP)

    def explain(self, X: pd.DataFrame) -> Explanation:
        """SHAP values of the rows of ``X`` (``prepare_features`` output), per original column."""
        encoded = np.asarray(self._encode.transform(X[self._inputs]), dtype=float)
        raw = np.asarray(self._estimator.decision_function(encoded), dtype=float).reshape(-1)
        if self._tree:
            # Additivity is checked below against decision_function itself, once.
            contributions = self._shap.shap_values(encoded, check_additivity=False)
        else:
            contributions = self._shap.shap_values(encoded)
        contributions = np.asarray(contributions, dtype=float).reshape(len(X), -1)
        values = contributions @ self._fold
        if len(X):
            gap = float(np.max(np.abs(self.base_value + values.sum(axis=1) - raw)))
            if gap > ADDITIVITY_TOLERANCE:
                logger.warning("SHAP values miss the raw score by up to %.3g log-odds", gap)
        # What predict_proba computes from the same raw score, without predicting twice
        # (a 200-tree boosting model spends ~0.1 ms per row predicting at one thread).
        proba = link(self._model, raw)
        return Explanation(
            features=list(self.features),
            base_value=self.base_value,
            values=values,
            raw=raw,
            proba=proba,
            base_proba=self.base_proba,
            base_slope=self.base_slope,
        )


def probability_points(expl: Explanation) -> np.ndarray:
    """Contributions in probability points (x100): rows sum to ``100 * (proba - base_proba)``.

    Each row's change in probability is shared among columns in proportion to their raw
    contributions: ``points[i, j] = s_i * values[i, j]`` with ``s_i = 100 * (proba_i -
    base_proba) / (raw_i - base_value)``, the row's average slope of probability against raw
    score (the link, through the calibrator if any). A row whose raw score is within 1e-6 of the
    base value uses the slope at the base value instead, so columns that cancel out keep their
    sizes. Because ``base_value + sum(values)`` matches ``raw`` only to ~1e-6, the tiny remainder
    is spread over columns in proportion to ``|values|``, which makes each row sum exactly (to
    floating point). Signs follow the raw contributions whenever the link is increasing.
    """
    values = np.asarray(expl.values, dtype=float)
    change = 100.0 * (np.asarray(expl.proba, dtype=float) - expl.base_proba)
    moved = np.asarray(expl.raw, dtype=float) - expl.base_value
    base_slope = expl.base_slope
    if not np.isfinite(base_slope):
        base_slope = expl.base_proba * (1.0 - expl.base_proba)
    flat = np.abs(moved) <= ADDITIVITY_TOLERANCE
    slope = np.where(flat, 100.0 * base_slope, change / np.where(flat, 1.0, moved))
    points = values * slope[:, None]
    remainder = change - points.sum(axis=1)
    size = np.abs(values)
    total = size.sum(axis=1, keepdims=True)
    weights = np.where(total > 0, size / np.where(total > 0, total, 1.0), 1.0 / values.shape[1])
    return points + remainder[:, None] * weights


def link(model: BaseEstimator, raw: np.ndarray) -> np.ndarray:
    """The probability the "model" step gives a row whose estimator scores ``raw`` (log-odds).

    Uncalibrated: the logistic function (what HistGradientBoosting and logistic regression use).
    Calibrated: each calibrator applied to the raw score, averaged over the calibrated
    classifiers and clipped as ``CalibratedClassifierCV.predict_proba`` does.
    """
    raw = np.asarray(raw, dtype=float)
    if not isinstance(model, CalibratedClassifierCV):
        return expit(raw)
    parts = []
    for calibrated in model.calibrated_classifiers_:
        if calibrated.method not in ("sigmoid", "isotonic") or len(calibrated.calibrators) != 1:
            raise ValueError(
                f"cannot explain a {calibrated.method!r}-calibrated model: explanations support "
                "binary models calibrated by sigmoid or isotonic"
            )
        parts.append(calibrated.calibrators[0].predict(raw))
    proba = np.mean(parts, axis=0)
    proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
    return proba


def encoded_sources(encode: ColumnTransformer, features: list[str]) -> np.ndarray:
    """For each output column of the fitted ``encode`` step, the index in ``features`` of the
    input column it comes from.

    Walks the fitted transformers (one-hot widths from ``categories_`` less grouped infrequent
    and dropped categories; imputers' kept columns and missing indicators; pipelines step by
    step) rather than parsing generated names, which are ambiguous when a column name is
    another's prefix.
    """
    position = {name: i for i, name in enumerate(features)}
    width = max((part.stop for part in encode.output_indices_.values()), default=0)
    sources = np.full(width, -1, dtype=np.int64)
    for name, transformer, columns in encode.transformers_:
        part = encode.output_indices_[name]
        if part.stop == part.start:
            continue
        inputs = _column_names(encode, columns)
        mapping = _output_sources(transformer, len(inputs))
        if len(mapping) != part.stop - part.start:
            raise ValueError(
                f"the {name!r} encoder makes {part.stop - part.start} columns but explanations "
                f"account for {len(mapping)}; its columns cannot be traced to the input"
            )
        unknown = sorted({inputs[k] for k in mapping} - position.keys())
        if unknown:
            raise ValueError(f"the model encodes columns outside the features: {unknown}")
        sources[part] = [position[inputs[k]] for k in mapping]
    if (sources < 0).any():
        raise ValueError("some encoded columns come from no known transformer")
    return sources


def _column_names(encode: ColumnTransformer, columns: object) -> list[str]:
    if isinstance(columns, str):
        return [columns]
    chosen = np.asarray(columns)
    if chosen.dtype == bool or np.issubdtype(chosen.dtype, np.integer):
        return [str(name) for name in np.asarray(encode.feature_names_in_)[chosen]]
    return [str(name) for name in chosen]


def _output_sources(transformer: object, n_inputs: int) -> list[int]:
    """For each output column of a fitted transformer, the index of its input column."""
    if transformer is None or transformer == "drop":
        return []
    if transformer == "passthrough":
        return list(range(n_inputs))
    if isinstance(transformer, Pipeline):
        current = list(range(n_inputs))
        for _, step in transformer.steps:
            if step is None or step == "passthrough":
                continue
            current = [current[k] for k in _output_sources(step, len(current))]
        return current
    if isinstance(transformer, OneHotEncoder):
        return [i for i, count in enumerate(_one_hot_widths(transformer)) for _ in range(count)]
    if isinstance(transformer, SimpleImputer):
        kept = np.flatnonzero(~pd.isna(transformer.statistics_)).tolist()
        if transformer.add_indicator:
            kept += [int(i) for i in transformer.indicator_.features_]
        return kept
    if isinstance(transformer, MissingIndicator):
        return [int(i) for i in transformer.features_]
    names = transformer.get_feature_names_out()  # type: ignore[attr-defined]
    if len(names) == n_inputs:  # element-wise transformers: scalers, ordinal codes
        return list(range(n_inputs))
    raise ValueError(
        f"cannot trace the columns of a {type(transformer).__name__} back to its inputs"
    )


def _one_hot_widths(encoder: OneHotEncoder) -> list[int]:
    """Output columns per input column: categories, less one per dropped category, with all
    infrequent categories of a column sharing one column."""
    widths = [len(categories) for categories in encoder.categories_]
    dropped = getattr(encoder, "drop_idx_", None)
    infrequent = getattr(encoder, "infrequent_categories_", None)
    for i in range(len(widths)):
        if dropped is not None and dropped[i] is not None:
            widths[i] -= 1
        if infrequent is not None and infrequent[i] is not None:
            widths[i] -= len(infrequent[i]) - 1
    return widths
