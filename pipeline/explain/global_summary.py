"""The global explanation of a model version: importance, beeswarm points and dependence data.

Computed once per model version in a compute child, on a stratified sample, and stored in the
warehouse; pages only read it. Every random choice is seeded, so the same model, rows and seed
give the same tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from shap.utils import approximate_interactions
from sklearn.pipeline import Pipeline

from pipeline.explain.language import MISSING, format_value
from pipeline.explain.shap_values import Explainer, probability_points
from pipeline.train import LABEL, TrainSpec, prepare_features

# Rows of the linear model's background (its expected value is the background's mean score).
BACKGROUND_ROWS = 1_000
# approximate_interactions shuffles with numpy's global random state above 10,000 rows; giving
# it at most that many (a seeded subsample) keeps the result reproducible.
INTERACTION_ROWS = 10_000
# A numeric column's direction needs a rank correlation between value and SHAP at least this
# strong; weaker ones (flat or U-shaped effects) are "no clear direction".
MIN_DIRECTION_CORRELATION = 0.05

IMPORTANCE_COLUMNS = ["feature", "mean_abs", "mean_abs_points", "share", "rank", "direction"]
POINTS_COLUMNS = [
    "feature",
    "row",
    "value_num",
    "value_text",
    "shap",
    "points",
    "colour",
    "interaction_feature",
    "interaction_value_text",
    "interaction_colour",
]


def stratified_sample(
    frame: pd.DataFrame, label_col: str | None, n: int, seed: int
) -> pd.DataFrame:
    """``n`` rows of ``frame`` drawn with ``seed``, in their original order; all rows when fewer.

    With ``label_col`` (present in ``frame``), each label value keeps its share of the rows
    (largest-remainder rounding, at least one row per value when ``n`` allows); without it the
    draw is simple random.
    """
    if len(frame) <= n:
        return frame
    rng = np.random.default_rng(seed)
    if label_col is None or label_col not in frame.columns:
        picked = rng.choice(len(frame), size=n, replace=False)
        return frame.iloc[np.sort(picked)]
    codes, _ = pd.factorize(frame[label_col], use_na_sentinel=False)
    counts = np.bincount(codes)
    quota = _allocate(counts, n)
    parts = [
        rng.choice(np.flatnonzero(codes == k), size=int(quota[k]), replace=False)
        for k in range(len(counts))
    ]
    return frame.iloc[np.sort(np.concatenate(parts))]


def _allocate(counts: np.ndarray, n: int) -> np.ndarray:
    exact = n * counts / counts.sum()
    quota = np.floor(exact).astype(np.int64)
    # Largest fractional parts get the rows left over; ties go to the earlier label value.
    order = sorted(range(len(counts)), key=lambda k: (-(exact[k] - quota[k]), k))
    for k in order[: n - int(quota.sum())]:
        quota[k] += 1
    for k in np.flatnonzero((quota == 0) & (counts > 0)):
        donor = int(np.argmax(quota))
        if quota[donor] > 1:
            quota[donor] -= 1
            quota[k] = 1
    return quota


def global_explanation(
    pipe: Pipeline,
    spec: TrainSpec,
    frame: pd.DataFrame,
    sample_rows: int,
    dependence_points: int,
    seed: int,
) -> dict[str, Any]:
    """Explain a stratified sample of ``frame`` (by ``_label`` when present): all rows when
    fewer than ``sample_rows``.

    Returns ``{"importance": ..., "points": ..., "base_value", "base_proba", "rows"}``: the two
    frames below, the explainer's base value (log-odds) and base probability, and the number
    of rows explained.

    * ``importance``, one row per feature, strongest first: ``feature``, ``mean_abs`` (mean
      |SHAP|, log-odds), ``mean_abs_points`` (mean |probability points|), ``share`` (of the
      total mean_abs, 0..1), ``rank`` (1 = strongest), ``direction`` ("higher values raise
      risk", "lower values raise risk" or "no clear direction" for numbers, by the sign of the
      Spearman correlation of value and SHAP; "<category> raises risk most" for categories, by
      mean SHAP).
    * ``points``, at most ``dependence_points`` sampled rows (the same rows for every feature)
      per feature: ``feature``, ``row`` (position in the explained sample), ``value_num``
      (NaN for categories), ``value_text``, ``shap``, ``points``, ``colour`` (0..1: the
      value's rank within the feature, categories ordered by mean SHAP; NaN when missing), and
      the strongest interacting feature's name, value text and colour for that row. The
      interacting feature is the first other feature in the order of
      ``shap.utils.approximate_interactions``: how well, within bins of 50 rows sorted by this
      feature's value, the other feature's colour correlates with this feature's SHAP values
      (missing values counted as a category, or mid-rank for numbers; at most 10,000 rows).
    """
    if not len(frame):
        raise ValueError("there are no rows to explain")
    label = LABEL if LABEL in frame.columns else None
    sample = stratified_sample(frame, label, sample_rows, seed)
    background = stratified_sample(frame, label, BACKGROUND_ROWS, seed)
    explainer = Explainer(pipe, spec, prepare_features(background, spec))
    X = prepare_features(sample, spec)
    expl = explainer.explain(X)
    points = probability_points(expl)
    colours = np.column_stack(
        [
            _colour(X[f], expl.values[:, j], f in spec.categorical)
            for j, f in enumerate(spec.features)
        ]
    )
    importance = _importance(X, spec, expl.values, points)
    # shap's approximate_interactions skips every bin holding a NaN, so scattered missing values
    # would hide a feature: it gets colours with missing values as values instead.
    complete = np.column_stack(
        [
            _colour(X[f], expl.values[:, j], f in spec.categorical, keep_missing=True)
            for j, f in enumerate(spec.features)
        ]
    )
    partners = _interactions(expl.values, complete, seed)
    rows = np.sort(
        np.random.default_rng([seed, 1]).choice(
            len(X), size=min(dependence_points, len(X)), replace=False
        )
    )
    return {
        "importance": importance,
        "points": _points(X, spec, expl.values, points, colours, partners, rows),
        "base_value": float(expl.base_value),
        "base_proba": float(expl.base_proba),
        "rows": len(X),
    }


def _colour(
    column: pd.Series, shap_values: np.ndarray, categorical: bool, keep_missing: bool = False
) -> np.ndarray:
    """0..1 per row: numbers by their rank, categories by their mean SHAP's rank; NaN missing.

    With ``keep_missing`` (the input of the interaction search) nothing is NaN: a missing
    category is one more category, a missing number sits in the middle (0.5).
    """
    missing = column.isna().to_numpy()
    if categorical:
        labels = column.astype(object).where(~missing, MISSING).astype(str).to_numpy()
        used = np.ones(len(labels), dtype=bool) if keep_missing else ~missing
        means = pd.Series(shap_values[used]).groupby(labels[used]).mean()
        order = sorted(means.index, key=lambda c: (means[c], c))
        rank = {c: i for i, c in enumerate(order)}
        positions = np.array([rank.get(c, np.nan) for c in labels], dtype=float)
        if not keep_missing:
            positions[missing] = np.nan
        span = len(order) - 1
    else:
        positions = column.rank(method="average").to_numpy(dtype=float) - 1.0
        span = int((~missing).sum()) - 1
    colour = positions / span if span > 0 else np.where(np.isnan(positions), np.nan, 0.5)
    return np.nan_to_num(colour, nan=0.5) if keep_missing else colour


def _direction(column: pd.Series, shap_values: np.ndarray, categorical: bool) -> str:
    if categorical:
        text = column.astype(object).where(column.notna(), MISSING).astype(str).to_numpy()
        means = pd.Series(shap_values).groupby(text).mean()
        top = max(means.index, key=lambda c: (means[c], c))
        return f"{top} raises risk most"
    valid = column.notna().to_numpy()
    values, effects = column.to_numpy(dtype=float)[valid], shap_values[valid]
    if len(values) < 2 or np.ptp(values) == 0 or np.ptp(effects) == 0:
        return "no clear direction"
    rho = float(np.corrcoef(pd.Series(values).rank(), pd.Series(effects).rank())[0, 1])
    if rho >= MIN_DIRECTION_CORRELATION:
        return "higher values raise risk"
    if rho <= -MIN_DIRECTION_CORRELATION:
        return "lower values raise risk"
    return "no clear direction"


def _importance(
    X: pd.DataFrame, spec: TrainSpec, values: np.ndarray, points: np.ndarray
) -> pd.DataFrame:
    mean_abs = np.abs(values).mean(axis=0)
    total = float(mean_abs.sum())
    order = sorted(range(len(spec.features)), key=lambda j: (-mean_abs[j], j))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    table = pd.DataFrame(
        {
            "feature": spec.features,
            "mean_abs": mean_abs,
            "mean_abs_points": np.abs(points).mean(axis=0),
            "share": mean_abs / total if total > 0 else np.zeros(len(mean_abs)),
            "rank": rank,
            "direction": [
                _direction(X[f], values[:, j], f in spec.categorical)
                for j, f in enumerate(spec.features)
            ],
        }
    )
    return table.sort_values("rank", kind="stable").reset_index(drop=True)[IMPORTANCE_COLUMNS]


def _interactions(values: np.ndarray, colours: np.ndarray, seed: int) -> list[int | None]:
    """Per feature, the index of its strongest interacting feature (None with one feature)."""
    n, m = values.shape
    if m < 2:
        return [None] * m
    rows = np.arange(n)
    if n > INTERACTION_ROWS:
        rows = np.sort(np.random.default_rng([seed, 2]).choice(n, INTERACTION_ROWS, replace=False))
    partners: list[int | None] = []
    for j in range(m):
        ranked = approximate_interactions(j, values[rows], colours[rows])
        partners.append(int(next(k for k in ranked if k != j)))
    return partners


def _points(
    X: pd.DataFrame,
    spec: TrainSpec,
    values: np.ndarray,
    points: np.ndarray,
    colours: np.ndarray,
    partners: list[int | None],
    rows: np.ndarray,
) -> pd.DataFrame:
    texts = np.column_stack(
        [[format_value(v) for v in X[f].to_numpy()[rows]] for f in spec.features]
    )
    parts = []
    for j, feature in enumerate(spec.features):
        categorical = feature in spec.categorical
        partner = partners[j]
        parts.append(
            pd.DataFrame(
                {
                    "feature": feature,
                    "row": rows.astype(np.int64),
                    "value_num": np.full(len(rows), np.nan)
                    if categorical
                    else X[feature].to_numpy(dtype=float)[rows],
                    "value_text": texts[:, j],
                    "shap": values[rows, j],
                    "points": points[rows, j],
                    "colour": colours[rows, j],
                    "interaction_feature": None if partner is None else spec.features[partner],
                    "interaction_value_text": None if partner is None else texts[:, partner],
                    "interaction_colour": np.nan if partner is None else colours[rows, partner],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)[POINTS_COLUMNS]
