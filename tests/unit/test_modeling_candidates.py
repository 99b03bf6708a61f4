"""Candidate models: one encode-then-model Pipeline each, their defaults and search spaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pipeline.modeling import candidates
from pipeline.modeling.candidates import HGB, LOGREG, build_candidate, default_params
from pipeline.train import DEFAULT_PARAMS, LABEL, prepare_features
from tests.unit._modeling_frames import SPEC, churn_frame, one_thread  # noqa: F401


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return churn_frame(rows=300)


@pytest.mark.parametrize(
    ("algorithm", "estimator"),
    [(HGB, HistGradientBoostingClassifier), (LOGREG, LogisticRegression)],
)
def test_each_candidate_is_one_pipeline_of_encode_then_model(algorithm: str, estimator) -> None:
    pipe = build_candidate(algorithm, SPEC, default_params(algorithm, "none"), seed=5)
    assert isinstance(pipe, Pipeline)
    assert [name for name, _ in pipe.steps] == ["encode", "model"]
    assert isinstance(pipe.named_steps["encode"], ColumnTransformer)
    assert isinstance(pipe.named_steps["model"], estimator)
    assert pipe.named_steps["model"].random_state == 5


def test_gradient_boosting_splits_ordinal_codes_so_tree_shap_is_exact() -> None:
    params = {**default_params(HGB, "balanced"), "max_iter": 150}
    model = build_candidate(HGB, SPEC, params, seed=1).named_steps["model"]
    assert model.categorical_features is None
    assert model.early_stopping is False
    assert (model.max_iter, model.class_weight) == (150, "balanced")
    encoder = build_candidate(HGB, SPEC, params, seed=1).named_steps["encode"].transformers[0][1]
    assert encoder.max_categories == 255


def test_defaults_are_todays_production_parameters_unweighted() -> None:
    assert default_params(HGB, "search") == {**DEFAULT_PARAMS, "class_weight": None}
    assert default_params(LOGREG, "none") == {"C": 1.0, "class_weight": None}
    assert default_params(LOGREG, "balanced")["class_weight"] == "balanced"


@pytest.mark.parametrize("algorithm", [HGB, LOGREG])
def test_every_default_is_a_point_of_its_search_space(algorithm: str) -> None:
    space = candidates.search_space(algorithm, "search")
    for name, value in default_params(algorithm, "search").items():
        assert value in space[name], name


def test_class_weight_is_searched_only_when_the_setting_says_search() -> None:
    assert candidates.search_space(HGB, "search")["class_weight"] == [None, "balanced"]
    assert candidates.search_space(HGB, "balanced")["class_weight"] == ["balanced"]
    assert candidates.search_space(LOGREG, "none")["class_weight"] == [None]


@pytest.mark.parametrize("algorithm", [HGB, LOGREG])
def test_unseen_categories_missing_values_and_missing_columns_are_scored(
    frame: pd.DataFrame, algorithm: str
) -> None:
    params = {**default_params(algorithm, "none"), **({"max_iter": 30} if algorithm == HGB else {})}
    pipe = build_candidate(algorithm, SPEC, params, seed=0)
    # Training has no missing usage and no unknown plan; scoring brings both, and no region.
    assert frame["usage"].notna().all()
    pipe.fit(prepare_features(frame, SPEC), frame[LABEL])
    new = pd.DataFrame(
        {"plan": ["enterprise", None, "basic"], "usage": [0.1, np.nan, 2.0], "tenure": [3, 4, 5]}
    )
    proba = pipe.predict_proba(prepare_features(new, SPEC))[:, 1]
    assert proba.shape == (3,)
    assert np.all((proba > 0) & (proba < 1))


def test_logistic_regression_converges_on_strong_and_weak_regularisation(
    frame: pd.DataFrame,
) -> None:
    # pytest turns warnings into errors, so a ConvergenceWarning fails this test.
    x, y = prepare_features(frame, SPEC), frame[LABEL].to_numpy()
    for c in candidates.SEARCH_SPACES[LOGREG]["C"]:
        for weight in (None, "balanced"):
            build_candidate(LOGREG, SPEC, {"C": c, "class_weight": weight}, seed=0).fit(x, y)


def test_an_unknown_algorithm_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown algorithm 'xgboost'.*hist_gradient_boosting"):
        build_candidate("xgboost", SPEC, {}, seed=0)
