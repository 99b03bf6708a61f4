"""The candidate models: each one ``Pipeline([("encode", ColumnTransformer), ("model", ...)])``.

``hist_gradient_boosting`` is today's production design (``pipeline.train.build_pipeline``:
ordinal codes split like numbers); ``logistic_regression`` is a regularised linear
baseline on one-hot codes and standardised numerics. Each has a default configuration and a
small discrete search space; ``class_weight`` joins the space when the setting is "search".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from pipeline.train import DEFAULT_PARAMS, TrainSpec, build_pipeline

HGB = "hist_gradient_boosting"
LOGREG = "logistic_regression"
ALGORITHMS: tuple[str, ...] = (HGB, LOGREG)

# Small discrete spaces: a few dozen seconds of search at one thread must cover them sensibly.
# Boosting rounds stay at 100-300 because a fit on ~460k rows costs ~2.5 s per 100 rounds.
SEARCH_SPACES: dict[str, dict[str, list[Any]]] = {
    HGB: {
        "learning_rate": [0.04, 0.06, 0.08, 0.12],
        "max_leaf_nodes": [15, 31, 63],
        "min_samples_leaf": [20, 40, 100, 200],
        "l2_regularization": [0.0, 0.3, 1.0, 3.0],
        "max_iter": [100, 200, 300],
    },
    LOGREG: {"C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]},
}

DEFAULTS: dict[str, dict[str, Any]] = {
    HGB: dict(DEFAULT_PARAMS),
    LOGREG: {"C": 1.0},
}

CLASS_WEIGHTS: dict[str, str | None] = {"balanced": "balanced", "none": None}


def search_space(algorithm: str, class_weight: str) -> dict[str, list[Any]]:
    """The discrete space searched for ``algorithm``.

    ``class_weight`` is the setting: "search" adds ``[None, "balanced"]`` to the space,
    "balanced" or "none" fix it.
    """
    space = {name: list(values) for name, values in SEARCH_SPACES[algorithm].items()}
    if class_weight == "search":
        space["class_weight"] = [None, "balanced"]
    else:
        space["class_weight"] = [CLASS_WEIGHTS[class_weight]]
    return space


def default_params(algorithm: str, class_weight: str) -> dict[str, Any]:
    """The configuration used without a search; unweighted unless the setting says balanced."""
    fixed = None if class_weight == "search" else CLASS_WEIGHTS[class_weight]
    return {**DEFAULTS[algorithm], "class_weight": fixed}


def build_candidate(algorithm: str, spec: TrainSpec, params: dict[str, Any], seed: int) -> Pipeline:
    """An unfitted candidate pipeline with steps "encode" and "model"."""
    if algorithm == HGB:
        return build_pipeline(replace(spec, seed=seed, params=dict(params)))
    if algorithm == LOGREG:
        return _logistic_regression(spec, params, seed)
    raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")


def _logistic_regression(spec: TrainSpec, params: dict[str, Any], seed: int) -> Pipeline:
    encode = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    # Categories seen in under 0.1% of rows share one "infrequent" column, which
                    # also absorbs categories first seen at scoring time.
                    min_frequency=0.001,
                    sparse_output=False,
                    dtype=np.float64,
                ),
                spec.categorical,
            ),
            (
                "numeric",
                Pipeline(
                    [
                        (
                            "impute",
                            # keep_empty_features: a column with no values in the window still
                            # gets a (constant) column, so scoring never changes shape.
                            SimpleImputer(
                                strategy="median", add_indicator=True, keep_empty_features=True
                            ),
                        ),
                        ("scale", StandardScaler()),
                    ]
                ),
                spec.numeric,
            ),
        ],
        verbose_feature_names_out=False,
    )
    model = LogisticRegression(
        C=params["C"],
        class_weight=params.get("class_weight"),
        solver="lbfgs",
        # Standardised inputs converge in well under 100 iterations; the margin keeps
        # ConvergenceWarning away on awkward windows (strong C, near-separable categories).
        max_iter=2000,
        random_state=seed,
    )
    return Pipeline([("encode", encode), ("model", model)])
