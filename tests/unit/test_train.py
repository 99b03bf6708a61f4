"""Training: time-based split, the model pipeline, honest holdout metrics, reproducibility."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline

from pipeline import train
from pipeline.train import LABEL, PERIOD, NotEnoughData, TrainSpec
from tests.unit._modeling_frames import one_thread  # noqa: F401

# Fewer boosting rounds than production keep the suite fast; the behaviours do not depend on it.
FAST = {**train.DEFAULT_PARAMS, "max_iter": 40}
SPEC = TrainSpec(categorical=["plan"], numeric=["usage", "tenure"], seed=7, params=FAST)
MONTHS = [date(2024, m, 1) for m in range(1, 7)]


def _frame(rows_per_period: int = 250, seed: int = 0) -> pd.DataFrame:
    """Six monthly periods where churn follows usage and plan: a learnable signal."""
    rng = np.random.default_rng(seed)
    parts = []
    for month in MONTHS:
        usage = rng.normal(size=rows_per_period)
        tenure = rng.integers(1, 60, size=rows_per_period).astype(float)
        plan = rng.choice(["basic", "plus", "premium"], size=rows_per_period)
        logit = -2.0 * usage + np.where(plan == "basic", 1.0, -0.5)
        label = (rng.random(rows_per_period) < 1 / (1 + np.exp(-logit))).astype(int)
        parts.append(
            pd.DataFrame(
                {"plan": plan, "usage": usage, "tenure": tenure, PERIOD: month, LABEL: label}
            )
        )
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def result(frame: pd.DataFrame) -> train.TrainResult:
    return train.fit_and_evaluate(frame, SPEC, holdout_periods=1)


# -- split_by_time -----------------------------------------------------------------------------
@pytest.mark.parametrize("holdout_periods", [1, 2])
def test_holdout_is_the_latest_periods_and_train_never_sees_them(
    frame: pd.DataFrame, holdout_periods: int
) -> None:
    shuffled = frame.sample(frac=1.0, random_state=1)  # the split must not rely on row order
    fit, holdout = train.split_by_time(shuffled, holdout_periods)
    assert sorted(holdout[PERIOD].unique()) == MONTHS[-holdout_periods:]
    assert sorted(fit[PERIOD].unique()) == MONTHS[:-holdout_periods]
    assert fit[PERIOD].max() < holdout[PERIOD].min()
    assert len(fit) + len(holdout) == len(frame)


def test_too_few_periods_is_not_enough_data(frame: pd.DataFrame) -> None:
    one_month = frame[frame[PERIOD] == MONTHS[0]]
    with pytest.raises(NotEnoughData, match="at least 2 periods; there are 1"):
        train.split_by_time(one_month, 1)
    with pytest.raises(NotEnoughData, match="at least 7 periods; there are 6"):
        train.split_by_time(frame, 6)


def test_training_periods_with_one_class_are_not_enough_data(frame: pd.DataFrame) -> None:
    one_class = frame.copy()
    one_class.loc[one_class[PERIOD] < MONTHS[-1], LABEL] = 0
    with pytest.raises(NotEnoughData, match="only one class"):
        train.fit_and_evaluate(one_class, SPEC, 1)


# -- build_pipeline ----------------------------------------------------------------------------
def test_model_is_one_pipeline_of_encode_then_gradient_boosting() -> None:
    pipe = train.build_pipeline(SPEC)
    assert isinstance(pipe, Pipeline)
    assert [name for name, _ in pipe.steps] == ["encode", "model"]
    assert isinstance(pipe.named_steps["encode"], ColumnTransformer)
    model = pipe.named_steps["model"]
    assert isinstance(model, HistGradientBoostingClassifier)
    assert model.categorical_features is None  # ordinal codes: exact TreeSHAP
    assert model.random_state == SPEC.seed
    assert model.max_iter == FAST["max_iter"]


def test_parameters_may_set_class_weights_for_the_search() -> None:
    spec = TrainSpec(["plan"], ["usage"], params={**FAST, "class_weight": "balanced"})
    assert train.build_pipeline(spec).named_steps["model"].class_weight == "balanced"


# -- fit_and_evaluate --------------------------------------------------------------------------
def test_learnable_signal_gives_a_useful_holdout_auc(result: train.TrainResult) -> None:
    assert result.metrics["roc_auc"] > 0.7
    assert (result.train_rows, result.holdout_rows) == (1250, 250)
    assert (result.train_from, result.train_to) == (MONTHS[0], MONTHS[-2])
    assert result.holdout_from == result.holdout_to == MONTHS[-1]


def test_metrics_equal_sklearn_on_the_same_holdout(result: train.TrainResult) -> None:
    holdout = result.holdout
    assert set(holdout[PERIOD]) == {MONTHS[-1]}
    y = holdout[LABEL].to_numpy()
    proba = result.pipeline.predict_proba(train.prepare_features(holdout, SPEC))[:, 1]
    expected = {
        "roc_auc": roc_auc_score(y, proba),
        "pr_auc": average_precision_score(y, proba),
        "brier": brier_score_loss(y, proba),
        "log_loss": log_loss(y, proba),
    }
    assert set(result.metrics) == set(expected)
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-9), name


def test_same_data_and_seed_give_identical_probabilities(frame: pd.DataFrame) -> None:
    first = train.fit_and_evaluate(frame, SPEC, 1)
    second = train.fit_and_evaluate(frame.copy(), SPEC, 1)
    features = train.prepare_features(frame, SPEC)
    assert np.array_equal(
        first.pipeline.predict_proba(features), second.pipeline.predict_proba(features)
    )
    assert first.metrics == second.metrics


def test_unseen_categories_and_missing_values_are_scored(result: train.TrainResult) -> None:
    new = pd.DataFrame(
        {
            "plan": ["enterprise", None, "basic"],
            "usage": [0.1, np.nan, "n/a"],
            "tenure": [3.0, 4.0, 5.0],
        }
    )
    proba = result.pipeline.predict_proba(train.prepare_features(new, SPEC))[:, 1]
    assert proba.shape == (3,)
    assert np.all((proba > 0) & (proba < 1))


def test_missing_feature_columns_are_scored_as_missing(result: train.TrainResult) -> None:
    new = pd.DataFrame({"usage": [0.5, -0.5]})
    features = train.prepare_features(new, SPEC)
    assert list(features.columns) == SPEC.features
    assert features["plan"].isna().all() and features["tenure"].isna().all()
    assert result.pipeline.predict_proba(features).shape == (2, 2)


def test_a_categorical_with_more_categories_than_histogram_bins_still_trains() -> None:
    frame = _frame(rows_per_period=400)
    frame["plan"] = [f"plan_{i % 300}" for i in range(len(frame))]
    fitted = train.fit_and_evaluate(frame, SPEC, 1)
    assert 0.0 <= fitted.metrics["roc_auc"] <= 1.0
