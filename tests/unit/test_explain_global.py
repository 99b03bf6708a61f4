"""The global explanation: stratified sample, importance, beeswarm points and interactions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from pipeline.explain.global_summary import (
    IMPORTANCE_COLUMNS,
    POINTS_COLUMNS,
    global_explanation,
    stratified_sample,
)
from pipeline.explain.shap_values import Explainer, probability_points
from pipeline.modeling.candidates import HGB, LOGREG, build_candidate, default_params
from pipeline.train import LABEL, PERIOD, prepare_features
from tests.unit._modeling_frames import MONTHS, SPEC, churn_frame, one_thread  # noqa: F401


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """Churn where usage matters mostly in the south: usage's partner should be region."""
    out = churn_frame(MONTHS[:6], rows=500, seed=4)
    rng = np.random.default_rng(4)
    south = (out["region"] == "south").to_numpy()
    logit = -2.5 + np.where(south, -2.5, -0.3) * out["usage"].to_numpy()
    logit += np.where(out["plan"] == "basic", 0.8, -0.3)
    out[LABEL] = (rng.random(len(out)) < 1 / (1 + np.exp(-logit))).astype(int)
    return out


def _fit(algorithm: str, frame: pd.DataFrame) -> Pipeline:
    extra = {"max_iter": 60} if algorithm == HGB else {}
    pipe = build_candidate(algorithm, SPEC, {**default_params(algorithm, "none"), **extra}, 0)
    return pipe.fit(prepare_features(frame, SPEC), frame[LABEL].to_numpy())


@pytest.fixture(scope="module")
def models(frame) -> dict[str, Pipeline]:
    return {algorithm: _fit(algorithm, frame) for algorithm in (HGB, LOGREG)}


@pytest.fixture(scope="module")
def explained(models, frame) -> dict[str, dict[str, pd.DataFrame]]:
    return {
        a: global_explanation(pipe, SPEC, frame, 2_000, 300, seed=7) for a, pipe in models.items()
    }


def test_sample_is_stratified_and_all_rows_when_fewer():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": np.arange(10_000), LABEL: (rng.random(10_000) < 0.07).astype(int)})
    positives = int(frame[LABEL].sum())
    sample = stratified_sample(frame, LABEL, 5_000, seed=1)
    assert len(sample) == 5_000 and sample.index.is_unique
    assert abs(int(sample[LABEL].sum()) - positives / 2) <= 1
    assert sample.index.is_monotonic_increasing  # original order kept
    assert stratified_sample(frame, LABEL, 5_000, seed=1).index.equals(sample.index)
    assert not stratified_sample(frame, LABEL, 5_000, seed=2).index.equals(sample.index)
    assert stratified_sample(frame, LABEL, 10_000, seed=1) is frame
    assert stratified_sample(frame.iloc[:300], LABEL, 5_000, seed=1).index.equals(frame.index[:300])
    unlabelled = stratified_sample(frame[["x"]], None, 1_234, seed=1)
    assert len(unlabelled) == 1_234 and unlabelled.index.is_unique


def test_a_rare_class_keeps_at_least_one_row():
    frame = pd.DataFrame({"x": np.arange(1_000), LABEL: [1] + [0] * 999})
    sample = stratified_sample(frame, LABEL, 100, seed=3)
    assert len(sample) == 100 and sample[LABEL].sum() == 1


@pytest.mark.parametrize("algorithm", [HGB, LOGREG])
def test_importance_ranks_features_by_mean_absolute_shap(models, explained, frame, algorithm):
    importance = explained[algorithm]["importance"]
    assert list(importance.columns) == IMPORTANCE_COLUMNS
    assert sorted(importance["feature"]) == sorted(SPEC.features)
    assert importance["rank"].tolist() == [1, 2, 3, 4]
    assert importance["mean_abs"].is_monotonic_decreasing
    assert importance["share"].sum() == pytest.approx(1.0)
    # Recomputed from the Explainer on the same sample: the same numbers.
    sample = stratified_sample(frame, LABEL, 2_000, seed=7)
    background = prepare_features(stratified_sample(frame, LABEL, 1_000, seed=7), SPEC)
    expl = Explainer(models[algorithm], SPEC, background).explain(prepare_features(sample, SPEC))
    by_feature = importance.set_index("feature").loc[SPEC.features]
    np.testing.assert_allclose(by_feature["mean_abs"], np.abs(expl.values).mean(axis=0))
    np.testing.assert_allclose(
        by_feature["mean_abs_points"], np.abs(probability_points(expl)).mean(axis=0)
    )
    assert importance["feature"].iloc[0] == "usage"
    assert by_feature.loc["usage", "direction"] == "lower values raise risk"
    assert by_feature.loc["plan", "direction"] == "basic raises risk most"


@pytest.mark.parametrize("algorithm", [HGB, LOGREG])
def test_points_are_one_seeded_subsample_of_the_explained_rows(models, explained, frame, algorithm):
    points = explained[algorithm]["points"]
    assert list(points.columns) == POINTS_COLUMNS
    rows_per_feature = points.groupby("feature")["row"].apply(tuple)
    assert rows_per_feature.nunique() == 1 and len(rows_per_feature.iloc[0]) == 300
    assert points["row"].between(0, 1_999).all()
    again = global_explanation(models[algorithm], SPEC, frame, 2_000, 300, seed=7)["points"]
    pd.testing.assert_frame_equal(points, again)

    sample = prepare_features(stratified_sample(frame, LABEL, 2_000, seed=7), SPEC)
    usage = points[points["feature"] == "usage"]
    np.testing.assert_array_equal(usage["value_num"], sample["usage"].to_numpy()[usage["row"]])
    plan = points[points["feature"] == "plan"]
    assert plan["value_num"].isna().all()
    assert (plan["value_text"].to_numpy() == sample["plan"].to_numpy()[plan["row"]]).all()

    colour = points["colour"]
    assert colour.dropna().between(0, 1).all()
    tenure = points[points["feature"] == "tenure"]
    missing = tenure["value_text"] == "missing"
    assert missing.any() and tenure.loc[missing, "colour"].isna().all()
    assert tenure.loc[missing, "value_num"].isna().all()
    # Colour follows the value's rank for numbers.
    known = tenure[~missing].sort_values("value_num")
    assert known["colour"].is_monotonic_increasing


@pytest.mark.parametrize("algorithm", [HGB, LOGREG])
def test_every_feature_gets_its_strongest_interaction(explained, algorithm):
    points = explained[algorithm]["points"]
    partners = points.groupby("feature")["interaction_feature"].unique()
    assert all(len(p) == 1 and p[0] in SPEC.features for p in partners)
    assert all(p[0] != feature for feature, p in partners.items())
    # The partner's columns describe the partner's own value on the same row.
    plan_rows = points[points["feature"] == "plan"].set_index("row")
    for feature, partner in partners.items():
        if partner[0] == "plan":
            own = points[points["feature"] == feature].set_index("row")
            assert (own["interaction_value_text"] == plan_rows["value_text"]).all()
            assert own["interaction_colour"].equals(plan_rows["colour"])


def test_a_real_interaction_is_found(explained):
    points = explained[HGB]["points"]
    partner = points.groupby("feature")["interaction_feature"].first()
    assert partner["usage"] == "region" and partner["region"] == "usage"


def test_scoring_rows_without_labels_are_explained(models, frame):
    scoring = frame[frame[PERIOD] == MONTHS[5]].drop(columns=[LABEL])
    out = global_explanation(models[HGB], SPEC, scoring, 5_000, 100, seed=1)
    assert len(out["points"]) == 100 * len(SPEC.features)
    assert out["points"]["row"].max() < len(scoring)


def test_there_must_be_rows_to_explain(models, frame):
    with pytest.raises(ValueError, match="no rows"):
        global_explanation(models[HGB], SPEC, frame.iloc[:0], 5_000, 100, seed=1)
